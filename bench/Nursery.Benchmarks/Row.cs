namespace Nursery.Benchmarks;

/// <summary>How a row's numbers are written: items/s as whole numbers, MB/s and milliseconds with decimals.</summary>
internal enum Unit
{
    ItemsPerSecond,
    MegabytesPerSecond,
    Milliseconds,
    Mebibytes,
    Ratio,
}

/// <summary>
/// One line of the results table. <see cref="Figures"/> is None when the row was not measured: <see cref="NotMeasured"/>
/// says why when that is expected on this machine (a peer tool is not installed), <see cref="Problems"/> when it went wrong.
/// </summary>
internal sealed record Row(string Id, string Workload, LanguageExt.Option<Sample> Figures, Unit Unit, string Ratio, IReadOnlyList<string> Problems)
{
    /// <summary>Median CPU microseconds per item in the parent (the harness included) and in the child(ren), when metered.</summary>
    public string CpuPerItem { get; init; } = "";

    /// <summary>Median items per write(2) call in the parent (≈ items per request frame) and in the child(ren) (≈ items per reply frame), when metered.</summary>
    public string ItemsPerWrite { get; init; } = "";

    /// <summary>Median garbage collections in the parent per 1,000 items, gen 0 / 1 / 2, when metered.</summary>
    public string ParentCollections { get; init; } = "";

    /// <summary>Why the row was left out on this machine (not a failure of the run); empty when it was measured or failed.</summary>
    public string NotMeasured { get; init; } = "";

    public static Row Measured(string id, string workload, Sample figures, Unit unit, string ratio = "", IReadOnlyList<string>? problems = null) =>
        new(id, workload, figures, unit, ratio, problems ?? []);

    public static Row Failed(string id, string workload, Unit unit, string problem) => new(id, workload, LanguageExt.Option<Sample>.None, unit, "", [problem]);

    /// <summary>A row this machine cannot measure (e.g. the peer tool is not installed): reported with the reason, not counted as a failure.</summary>
    public static Row Skipped(string id, string workload, Unit unit, string reason) => new(id, workload, LanguageExt.Option<Sample>.None, unit, "", []) { NotMeasured = reason };

    public double Median => Figures.Match(sample => sample.Median, () => double.NaN);
}
