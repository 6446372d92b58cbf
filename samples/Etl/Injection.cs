using System.Globalization;
using Nursery.Etl.Bodies;

namespace Nursery.Etl;

/// <summary>
/// Parses <c>--inject throw:0.001,kill:3,init-fail</c>: a rate below 1 is a probability per item, a number of 1 or
/// more is how many items (chosen from the seed) get the fault. The children decide from the item's index alone.
/// </summary>
internal static class Injection
{
    public static FaultPlan Parse(string spec, int seed, long items, long memoryLimit)
    {
        var rates = new Dictionary<string, double>(StringComparer.Ordinal);
        var indices = new Dictionary<string, long[]>(StringComparer.Ordinal);
        var initFail = false;
        foreach (var part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (part == "init-fail")
            {
                initFail = true;
                continue;
            }
            var pieces = part.Split(':');
            if (pieces.Length != 2 || !FaultPlan.Kinds.Contains(pieces[0]))
                throw new FormatException($"--inject: '{part}' is not one of {string.Join(", ", FaultPlan.Kinds.Select(k => k + ":N"))}, init-fail");
            if (!double.TryParse(pieces[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) || amount <= 0)
                throw new FormatException($"--inject: '{part}' needs a rate in (0, 1) or a count of 1 or more");
            if (amount < 1)
                rates[pieces[0]] = amount;
            else
                indices[pieces[0]] = Choose(seed, pieces[0], (long)amount, items);
        }
        return new FaultPlan(seed, rates, indices, initFail, memoryLimit, "");
    }

    public static bool Has(FaultPlan plan, string kind) => plan.Rates.ContainsKey(kind) || plan.Indices.ContainsKey(kind);

    /// <summary><paramref name="count"/> distinct item indices in [0, items), the same for the same seed and kind.</summary>
    private static long[] Choose(int seed, string kind, long count, long items)
    {
        var random = new Random(seed * 31 + FaultPlan.Kinds.ToList().IndexOf(kind));
        var chosen = new SortedSet<long>();
        while (chosen.Count < Math.Min(count, items))
            chosen.Add(random.NextInt64(items));
        return [.. chosen];
    }
}
