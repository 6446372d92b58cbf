namespace Nursery.Benchmarks;

/// <summary>The figures of one row: one value per run (or per repetition), and their order statistics.</summary>
internal sealed class Sample
{
    private readonly double[] _sorted;

    public Sample(IEnumerable<double> values)
    {
        _sorted = [.. values.Order()];
        if (_sorted.Length == 0)
            throw new ArgumentException("A sample needs at least one value.", nameof(values));
    }

    public int Count => _sorted.Length;

    public double Min => _sorted[0];

    public double Max => _sorted[^1];

    /// <summary>The middle value, or the mean of the two middle values.</summary>
    public double Median => _sorted.Length % 2 == 1 ? _sorted[_sorted.Length / 2] : (_sorted[(_sorted.Length / 2) - 1] + _sorted[_sorted.Length / 2]) / 2;

    /// <summary>The 90th percentile by nearest rank: the smallest value with at least 90 % of the values at or below it.</summary>
    public double P90 => _sorted[(int)Math.Ceiling(0.9 * _sorted.Length) - 1];
}
