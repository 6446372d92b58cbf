using System.Diagnostics;

namespace Nursery.Supervision;

/// <summary>
/// How many starts a pool may make before it fails instead of respawning forever: the first start of each slot is
/// free, later ones are restarts counted against <see cref="PoolOptions.RestartIntensity"/> (a sliding window), and
/// <see cref="PoolOptions.MaxFailedStartsInARow"/> failed starts in a row fail the pool whatever the window allows.
/// Not thread-safe: the pool calls it under its lock. Times are <see cref="Stopwatch"/> timestamps.
/// </summary>
internal sealed class RestartBudget(PoolOptions options)
{
    private readonly Queue<long> _restartTimes = new();
    private int _startAttempts;
    private int _failedStartsInARow;

    /// <summary>Counts a start about to be made at <paramref name="now"/>; returns why the pool must fail instead, or null.</summary>
    public string? TryStart(long now)
    {
        if (++_startAttempts <= options.Workers)
            return null;
        _restartTimes.Enqueue(now);
        while (_restartTimes.Count > 0 && Stopwatch.GetElapsedTime(_restartTimes.Peek(), now) > options.RestartIntensity.Window)
            _restartTimes.Dequeue();
        if (_restartTimes.Count <= options.RestartIntensity.MaxRestarts)
            return null;
        return $"the pool restarted children more than {options.RestartIntensity.MaxRestarts} times within {Units.Duration(options.RestartIntensity.Window)} (PoolOptions.RestartIntensity)";
    }

    /// <summary>A child started: the run of failed starts is over.</summary>
    public void Started() => _failedStartsInARow = 0;

    /// <summary>
    /// A start failed; returns why the pool must fail, or null. A start cancelled (the pool was stopped) does not
    /// count. Starts slower than the intensity window would never trip it, so failures in a row count too.
    /// </summary>
    public string? StartFailed(bool cancelled)
    {
        if (cancelled || ++_failedStartsInARow < options.MaxFailedStartsInARow)
            return null;
        return $"{_failedStartsInARow} starts in a row failed (PoolOptions.MaxFailedStartsInARow is {options.MaxFailedStartsInARow})";
    }
}
