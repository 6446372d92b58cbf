namespace Nursery.Launch;

/// <summary>A program this process started and watches until it is reaped.</summary>
internal interface IChildProcess
{
    /// <summary>Its pid.</summary>
    int ProcessId { get; }

    /// <summary>The last lines it wrote to stderr.</summary>
    StderrTail Stderr { get; }

    /// <summary>Completes when it has exited and been reaped and its pipes are closed. Never faults.</summary>
    Task<ChildExit> Exit { get; }

    /// <summary>Whether <see cref="Exit"/> has completed.</summary>
    bool HasExited { get; }

    /// <summary>Kills it and everything it started. Safe to call many times and after exit.</summary>
    void Kill();
}
