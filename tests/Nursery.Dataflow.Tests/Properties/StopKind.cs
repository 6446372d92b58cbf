namespace Nursery.Dataflow.Tests.Properties;

/// <summary>How a plan stops its run early, if at all: the run's deadline or the caller's token.</summary>
public enum StopKind
{
    None,
    Deadline,
    Cancel,
}
