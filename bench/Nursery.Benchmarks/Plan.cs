namespace Nursery.Benchmarks;

/// <summary>How much to measure. <see cref="Full"/> is for the published figures, <see cref="Quick"/> a smoke test for CI.</summary>
internal sealed record Plan
{
    public required string Name { get; init; }

    /// <summary>Timed runs per throughput row (after one untimed warm-up run).</summary>
    public required int Runs { get; init; }

    /// <summary>Trivial items per run, batched, through one worker (and shared between two workers).</summary>
    public required int TrivialItems { get; init; }

    /// <summary>Calls kept in flight by the windowed drivers.</summary>
    public required int Window { get; init; }

    /// <summary>Trivial items per run with one item per frame.</summary>
    public required int UnbatchedItems { get; init; }

    /// <summary>Items per run sent one at a time, each awaited before the next.</summary>
    public required int RoundTripItems { get; init; }

    /// <summary>10 KiB strings per run echoed through one worker.</summary>
    public required int EchoItems { get; init; }

    public required int EchoWindow { get; init; }

    public required int KillRepetitions { get; init; }

    public required int StartRepetitions { get; init; }

    /// <summary>Direct calls per run for the in-process context row.</summary>
    public required int InProcessCalls { get; init; }

    /// <summary>Items per run for the in-process codec context rows.</summary>
    public required int CodecItems { get; init; }

    /// <summary>Trivial items per run for the two-worker comparison rows (7a, 7c, 7e–7g, 9).</summary>
    public required int FlowItems { get; init; }

    /// <summary>
    /// Trivial items per run through the Dataflow stage and its in-process counterpart (7f, 7g, 9): more than
    /// <see cref="FlowItems"/>, so that the throughput of a stage with fresh children is measured past their first
    /// half second (tier-0 code in the children, the child host's warm-up thread), as a long ETL run sees it.
    /// </summary>
    public required int StageItems { get; init; }

    /// <summary>10 KiB strings per run through a two-child WorkerPool (8a).</summary>
    public required int FlowEchoItems { get; init; }

    /// <summary>Items per run for the Python chunksize-1 rows (about 10–40 k items/s).</summary>
    public required int PythonUnchunkedItems { get; init; }

    /// <summary>10 KiB strings per run through Python's mp.Pool.</summary>
    public required int PythonEchoItems { get; init; }

    /// <summary>Fail-fast repetitions (row 10).</summary>
    public required int FailFastRepetitions { get; init; }

    /// <summary>Items streamed through two stages for the memory row (12), and the time allowed for it.</summary>
    public required long StreamItems { get; init; }

    public required TimeSpan StreamBudget { get; init; }

    /// <summary>Timed runs of the command rows (13).</summary>
    public required int CommandRuns { get; init; }

    /// <summary>Items per run through a per-item cat stage, xargs and GNU parallel.</summary>
    public required int CatItems { get; init; }


    /// <summary>Items per run through a fresh 2-worker stage for the warm-up row (7i), and how many of the first make its head.</summary>
    public required int WarmUpItems { get; init; }

    public required int WarmUpHead { get; init; }

    /// <summary>Cases per run of the trivial property, in-process and isolated (row 14).</summary>
    public required int PropertyCases { get; init; }

    public static Plan Full { get; } =
        new()
        {
            Name = "full",
            Runs = 5,
            TrivialItems = 1_000_000,
            Window = 4_096,
            UnbatchedItems = 300_000,
            RoundTripItems = 10_000,
            EchoItems = 20_000,
            EchoWindow = 256,
            KillRepetitions = 100,
            StartRepetitions = 30,
            InProcessCalls = 200_000_000,
            CodecItems = 2_000_000,
            FlowItems = 300_000,
            StageItems = 1_000_000,
            FlowEchoItems = 10_000,
            PythonUnchunkedItems = 20_000,
            PythonEchoItems = 20_000,
            FailFastRepetitions = 15,
            StreamItems = 10_000_000,
            StreamBudget = TimeSpan.FromSeconds(150),
            CommandRuns = 3,
            CatItems = 300,
            PropertyCases = 10_000,
            WarmUpItems = 1_200_000,
            WarmUpHead = 300_000,
        };

    public static Plan Quick { get; } =
        new()
        {
            Name = "quick",
            Runs = 2,
            TrivialItems = 20_000,
            Window = 4_096,
            UnbatchedItems = 4_000,
            RoundTripItems = 300,
            EchoItems = 500,
            EchoWindow = 256,
            KillRepetitions = 5,
            StartRepetitions = 3,
            InProcessCalls = 10_000_000,
            CodecItems = 50_000,
            FlowItems = 20_000,
            StageItems = 20_000,
            FlowEchoItems = 300,
            PythonUnchunkedItems = 300,
            PythonEchoItems = 200,
            FailFastRepetitions = 3,
            StreamItems = 5_000,
            StreamBudget = TimeSpan.FromMinutes(1),
            CommandRuns = 1,
            CatItems = 20,
            WarmUpItems = 120_000,
            WarmUpHead = 30_000,
            PropertyCases = 500,
        };
}
