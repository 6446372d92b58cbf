using System.Globalization;
using Nursery.TestBodies;

namespace Nursery.Dataflow.Tests.Properties;

/// <summary>One item's behaviour at one stage; <paramref name="Argument"/> is the exit code or the sleep in ms.</summary>
public readonly record struct Fault(FaultKind Kind, int Argument = 0)
{
    /// <summary>Whether the item cannot come through the stage.</summary>
    public bool Fails => Kind is not (FaultKind.Return or FaultKind.Slow);

    /// <summary>The failure cases the stage may report for this fault.</summary>
    public IReadOnlySet<string> ExpectedKinds =>
        Kind switch
        {
            FaultKind.Throw => new HashSet<string> { "Faulted" },
            FaultKind.Exit or FaultKind.Kill => new HashSet<string> { "Crashed" },
            FaultKind.OutOfMemory => new HashSet<string> { "OutOfMemory" },
            FaultKind.SleepForever or FaultKind.Stop => new HashSet<string> { "TimedOut" },
            FaultKind.Garbage => new HashSet<string> { "ProtocolViolation" },
            _ => new HashSet<string>(),
        };

    /// <summary>The token the child body reads (see <see cref="PlannedItem"/>).</summary>
    public string Token =>
        Kind switch
        {
            FaultKind.Return => "R",
            FaultKind.Slow => "W" + Argument.ToString(CultureInfo.InvariantCulture),
            FaultKind.Throw => "T",
            FaultKind.Exit => "X" + Argument.ToString(CultureInfo.InvariantCulture),
            FaultKind.Kill => "K",
            FaultKind.OutOfMemory => "O",
            FaultKind.SleepForever => "H",
            FaultKind.Stop => "S",
            FaultKind.Garbage => "G",
            _ => throw new ArgumentOutOfRangeException(nameof(Kind)),
        };
}
