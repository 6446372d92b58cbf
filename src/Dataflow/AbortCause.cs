namespace Nursery;

/// <summary>What aborted a run (<see cref="PipelineResult.AbortCause"/>).</summary>
public enum AbortCause
{
    /// <summary>The run was not aborted.</summary>
    None,

    /// <summary>An item failed under a fail-fast policy (<see cref="PipelineResult.FirstFailure"/> is that failure).</summary>
    Failure,

    /// <summary>A stage's children could not be kept running: its pool restarted them too often and stopped (StartFailed), whatever the policy.</summary>
    StageFailed,

    /// <summary>The run's <see cref="NurseryOptions.Deadline"/> passed.</summary>
    Deadline,

    /// <summary>The caller's CancellationToken was cancelled.</summary>
    Caller,

    /// <summary>An in-process block (a sink, your own block, the source) threw or faulted.</summary>
    BlockFaulted,

    /// <summary>The scope was disposed while the run was going on.</summary>
    Disposed,
}
