namespace Nursery.Dataflow.Tests.Properties;

/// <summary>What one item does at one stage.</summary>
public enum FaultKind
{
    Return,
    Slow,
    Throw,
    Exit,
    Kill,
    OutOfMemory,
    SleepForever,
    Stop,
    Garbage,
}
