namespace Nursery.Etl;

/// <summary>The command line, checked.</summary>
internal sealed record EtlSettings
{
    public required string Input { get; init; }
    public required int Generate { get; init; }
    public required string Database { get; init; }
    public required int Workers { get; init; }
    public required long MemoryLimit { get; init; }
    public required TimeSpan ItemTimeout { get; init; }
    public required TimeSpan Deadline { get; init; }
    public required string Policy { get; init; }
    public required string JobLog { get; init; }
    public required bool Resume { get; init; }
    public required bool Python { get; init; }
    public required string Inject { get; init; }
    public required int Seed { get; init; }
    public required string SummaryFile { get; init; }

    /// <summary>The command line as given, for the resume command printed after an abort.</summary>
    public required IReadOnlyList<string> Arguments { get; init; }

    /// <summary>Where to write the run's timeline (.svg or .json), if anywhere.</summary>
    public string? Timeline { get; init; }
}
