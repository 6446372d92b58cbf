using System.Globalization;
using Nursery.TestBodies;

namespace Nursery.Dataflow.Tests.Properties;

/// <summary>
/// One item's behaviour at one stage (or at the sink). <paramref name="Argument"/> is the exit code, the sleep in ms or
/// the garbage's seed. A <paramref name="Transient"/> fault happens on the first attempt only; <paramref name="Grandchild"/>
/// starts a <c>sleep 300</c> first (see <see cref="PlannedItem"/>).
/// </summary>
public readonly record struct Fault(FaultKind Kind, int Argument = 0, bool Transient = false, bool Grandchild = false)
{
    /// <summary>Whether this fault makes the first attempt fail.</summary>
    public bool IsFault => Kind is not (FaultKind.Return or FaultKind.Slow);

    /// <summary>The failure case the stage reports for this fault.</summary>
    public FailureKind? ExpectedKind =>
        Kind switch
        {
            FaultKind.Throw => FailureKind.Faulted,
            FaultKind.Exit or FaultKind.Kill => FailureKind.Crashed,
            FaultKind.OutOfMemory => FailureKind.OutOfMemory,
            FaultKind.SleepForever or FaultKind.Stop => FailureKind.TimedOut,
            FaultKind.Garbage => FailureKind.ProtocolViolation,
            _ => null,
        };

    /// <summary>Whether the item cannot come through under the policy: a fault that is permanent, or transient and not retried.</summary>
    public bool FailsUnder(Policy policy) =>
        IsFault && (!Transient || policy is not RetryPolicy retry || ExpectedKind is not { } kind || !retry.RetryOn.Contains(kind));

    /// <summary>The bytes a Garbage fault writes: random, but never the start of a frame the parser would wait on (a kind byte outside 1–9) nor text (0xFF first).</summary>
    public static byte[] GarbageBytes(int seed)
    {
        var random = new Random(seed);
        var bytes = new byte[random.Next(5, 200)];
        random.NextBytes(bytes);
        bytes[0] = 0xFF;
        if (bytes[4] is >= 1 and <= 9)
            bytes[4] = (byte)(bytes[4] + 0x40);
        return bytes;
    }

    /// <summary>The token the child body reads (see <see cref="PlannedItem"/>).</summary>
    public string Token =>
        (Grandchild ? "+" : "") + (Transient ? "~" : "")
        + Kind switch
        {
            FaultKind.Return => "R",
            FaultKind.Slow => "W" + Argument.ToString(CultureInfo.InvariantCulture),
            FaultKind.Throw => "T",
            FaultKind.Exit => "X" + Argument.ToString(CultureInfo.InvariantCulture),
            FaultKind.Kill => "K",
            FaultKind.OutOfMemory => "O",
            FaultKind.SleepForever => "H",
            FaultKind.Stop => "S",
            FaultKind.Garbage => "G" + Convert.ToHexString(GarbageBytes(Argument)),
            _ => throw new ArgumentOutOfRangeException(nameof(Kind)),
        };

    /// <summary>Short form for printed plans (garbage by its seed, not its bytes).</summary>
    public override string ToString() =>
        Kind == FaultKind.Garbage ? $"{(Grandchild ? "+" : "")}{(Transient ? "~" : "")}G(seed {Argument})" : Token;
}
