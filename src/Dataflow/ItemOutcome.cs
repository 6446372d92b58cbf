using System.Diagnostics.CodeAnalysis;

namespace Nursery;

/// <summary>
/// How an attempt or an item ended: <see cref="Succeeded"/>, or a failure of one <see cref="FailureKind"/>
/// (<see cref="Failed"/>). One instance per outcome, so <c>==</c> compares them. Its text (<see cref="ToString"/>,
/// read back by <see cref="TryParse"/>) is what the job log's outcome column holds: "Succeeded" or the kind's name.
/// </summary>
public sealed class ItemOutcome
{
    private const string SucceededText = "Succeeded";

    private static readonly ItemOutcome[] ByKind = [.. Enum.GetValues<FailureKind>().Select(kind => new ItemOutcome(kind, kind.ToString()))];

    private readonly string _text;

    private ItemOutcome(FailureKind? kind, string text)
    {
        Kind = kind;
        _text = text;
    }

    /// <summary>The attempt (or the item) came through.</summary>
    public static ItemOutcome Succeeded { get; } = new(null, SucceededText);

    /// <summary>Every outcome: <see cref="Succeeded"/>, then a failure of each kind in the order of <see cref="FailureKind"/>.</summary>
    public static IReadOnlyList<ItemOutcome> All { get; } = [Succeeded, .. ByKind];

    /// <summary>The failure's kind; null for <see cref="Succeeded"/>.</summary>
    public FailureKind? Kind { get; }

    /// <summary>Whether this is <see cref="Succeeded"/>.</summary>
    public bool IsSuccess => Kind is null;

    /// <summary>The outcome of a failure of <paramref name="kind"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not a member of <see cref="FailureKind"/>.</exception>
    public static ItemOutcome Failed(FailureKind kind) =>
        (uint)kind < (uint)ByKind.Length
            ? ByKind[(int)kind]
            : throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a member of FailureKind; use one of its named members.");

    /// <summary>The outcome of <paramref name="failure"/>: a failure of its kind.</summary>
    public static ItemOutcome Of(ChildFailure failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        return Failed(failure.Kind);
    }

    /// <summary>Reads an outcome from its text ("Succeeded" or a <see cref="FailureKind"/>'s name, case as written); false for any other text.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, [NotNullWhen(true)] out ItemOutcome? outcome)
    {
        foreach (var candidate in All)
        {
            if (text.SequenceEqual(candidate._text))
            {
                outcome = candidate;
                return true;
            }
        }
        outcome = null;
        return false;
    }

    /// <summary>Reads an outcome from its text ("Succeeded" or a <see cref="FailureKind"/>'s name).</summary>
    /// <exception cref="FormatException">The text is not an outcome's.</exception>
    public static ItemOutcome Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var outcome)
            ? outcome
            : throw new FormatException($"'{text}' is not an item outcome; it is \"{SucceededText}\" or a FailureKind's name ({string.Join(", ", Enum.GetNames<FailureKind>())}).");
    }

    /// <summary>The outcome's text: "Succeeded", or the failure kind's name.</summary>
    public override string ToString() => _text;
}
