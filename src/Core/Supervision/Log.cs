using Microsoft.Extensions.Logging;

namespace Nursery.Supervision;

/// <summary>The supervisor's log messages, generated once so logging costs nothing when disabled.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "[{Stage} pid {Pid}] {Line}")]
    public static partial void ChildStderr(ILogger logger, string stage, int pid, string line);

    [LoggerMessage(EventId = 2, Message = "[{Stage} pid {Pid}] {Text}")]
    public static partial void ChildLog(ILogger logger, LogLevel level, string stage, int pid, string text);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Memory limits cannot be enforced here ({Reason}); children run without a memory cgroup, and a SIGKILL will be reported as Crashed (signal 9, possibly out of memory) instead of OutOfMemory.")]
    public static partial void NoMemoryCgroup(ILogger logger, string reason);

    [LoggerMessage(EventId = 4, Level = LogLevel.Debug, Message = "Could not start {Command}")]
    public static partial void StartError(ILogger logger, Exception exception, Nursery.Launch.LaunchSpec command);
}
