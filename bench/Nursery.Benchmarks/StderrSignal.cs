using Microsoft.Extensions.Logging;

namespace Nursery.Benchmarks;

/// <summary>A logger for one worker that completes <see cref="Seen"/> when the child writes a line containing the marker to stderr.</summary>
internal sealed class StderrSignal(string marker) : ILogger
{
    private readonly TaskCompletionSource _seen = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Seen => _seen.Task;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        if (formatter(state, exception).Contains(marker, StringComparison.Ordinal))
            _seen.TrySetResult();
    }
}
