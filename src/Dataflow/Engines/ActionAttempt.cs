using System.Diagnostics;
using LanguageExt;

namespace Nursery.Engines;

/// <summary>
/// An attempt of a sink's item: its action, run in this process. A throw or a faulted task is the item's Faulted
/// failure. The first attempt may have been started by the sink already (<paramref name="first"/>, its clock read
/// with <see cref="Environment.TickCount64"/> at <paramref name="firstStartMilliseconds"/>). Successes are timed only
/// while they are kept or logged.
/// </summary>
internal struct ActionAttempt<T>(NurseryScope scope, string sink, Func<T, Task> action, string key, T value, Task? first, long firstStartMilliseconds) : IAttempt<Unit>
{
    private DateTimeOffset _start;
    private long _startTicks;
    private Exception? _thrown;

    public readonly bool RunnerFailed => false;

    public Task Start(int attempt, long memoryLimit)
    {
        // Timing a success costs more than a fast action once records are no longer kept.
        _start = attempt > 1 || scope.Ledger.KeepsSuccesses ? DateTimeOffset.UtcNow : default;
        _startTicks = Stopwatch.GetTimestamp();
        _thrown = null;
        if (attempt == 1 && first is not null)
            return first;
        try
        {
            return action(value);
        }
        catch (Exception exception)
        {
            _thrown = exception;
            return Task.CompletedTask;
        }
    }

    public readonly Attempted<Unit> End(Task running, int attempt)
    {
        var thrown = _thrown;
        if (thrown is null)
        {
            try
            {
                running.GetAwaiter().GetResult();
                return new Attempted<Unit>(Prelude.Right<ChildFailure, Unit>(Prelude.unit), 0, _start, _start == default ? default : DateTimeOffset.UtcNow);
            }
            catch (Exception exception)
            {
                thrown = exception;
            }
        }
        var failure = new ChildFailure.Faulted(RemoteError.From(thrown))
        {
            Stage = sink,
            Key = key,
            Attempt = attempt,
            Elapsed = attempt == 1 && first is not null ? TimeSpan.FromMilliseconds(Environment.TickCount64 - firstStartMilliseconds) : Stopwatch.GetElapsedTime(_startTicks),
        };
        return new Attempted<Unit>(Prelude.Left<ChildFailure, Unit>(failure), 0, _start, DateTimeOffset.UtcNow);
    }

    public readonly void Succeeded() => scope.Ledger.Succeeded(sink, key, writeNow: false); // the sink writes its end lines itself
}
