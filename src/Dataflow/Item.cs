using LanguageExt;

namespace Nursery;

/// <summary>
/// What flows between stages: an item's key and its value so far, a result or the failure that ended it
/// (railway style: a stage passes a <c>Left</c> on untouched). The key is the item's index in the source unless
/// the run was given a key function; it names the item in failures, records, the job log and resumes.
/// </summary>
/// <param name="Key">The item's key.</param>
/// <param name="Value">The item's value, or the failure that stopped it.</param>
public readonly record struct Item<T>(string Key, Either<ChildFailure, T> Value)
{
    /// <summary>Whether the item carries a value (a Right).</summary>
    public bool IsSuccess => Value.IsRight;

    /// <inheritdoc />
    public override string ToString()
    {
        var key = Key;
        return Value.Match(value => $"{key}: {value}", failure => $"{key}: {failure.Kind} ({failure.Summary})");
    }
}
