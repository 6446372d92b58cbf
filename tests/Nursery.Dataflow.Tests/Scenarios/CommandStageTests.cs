using System.Collections.Concurrent;
using Nursery.Tests.Support;

namespace Nursery.Dataflow.Tests.Scenarios;

/// <summary>Programs as stage bodies: a .NET stage into a Python stage into an in-process sink, and per-item programs.</summary>
public sealed class CommandStageTests
{
    private static readonly TimeSpan Bound = Pipelines.Bound;
    private static readonly string Worker = Path.Combine(AppContext.BaseDirectory, "python", "worker.py");

    /// <remarks>worker.py raises for -1 (and misbehaves for other negative items), so only item 0 fails.</remarks>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_dotnet_stage_feeds_a_python_stage_feeding_a_sink(bool skip)
    {
        var rows = new ConcurrentBag<int>();
        await using var scope = new NurseryScope(Pipelines.Quick(skip ? Policy.Skip : Policy.FailFast));
        var shift = scope.Stage<int, int>(x => x - 1, new StageOptions { Name = "shift", Workers = 1 });
        var python = scope.CommandStage(Command.Python<int, int>(Worker), new StageOptions { Name = "python", Workers = 2 });
        var sink = scope.Sink<int>(rows.Add);
        shift.LinkTo(python);
        python.LinkTo(sink);

        var result = await scope.RunAsync(Enumerable.Range(0, 21), shift).WaitAsync(Bound);

        Assert.True(result.IsBalanced, result.ToString());
        var failure = Assert.IsType<ChildFailure.Faulted>(result.FirstFailure.Case);
        Assert.Equal("python", failure.Stage);
        Assert.Equal("0", failure.Key);
        Assert.Equal("ValueError", failure.Error.Type);
        Assert.Contains("Traceback", failure.Error.StackTrace, StringComparison.Ordinal);
        if (skip)
        {
            Assert.True(result.Completed, result.ToString());
            Assert.Equal(20, result.Succeeded);
            Assert.Equal(Enumerable.Range(1, 20).Select(i => (i - 1) * 2), rows.Order());
        }
        else
        {
            Assert.True(result.Aborted);
        }
        await Processes.AssertAllGoneAsync(shift.ProcessIds, python.ProcessIds);
    }

    [Fact]
    public async Task A_per_item_program_is_a_stage_like_any_other()
    {
        var lines = new ConcurrentBag<string>();
        await using var scope = new NurseryScope(Pipelines.Quick(Policy.Skip));
        var upper = scope.CommandStage(Command.PerItem<string, string>("tr", "a-z", "A-Z"), new StageOptions { Workers = 2 });
        var count = scope.CommandStage(Command.PerItem<string, int>("wc", "-c"), new StageOptions { Workers = 2 });
        upper.LinkTo(count);
        count.LinkTo(scope.Sink<int>(n => lines.Add(n.ToString(System.Globalization.CultureInfo.InvariantCulture))));

        var result = await scope.RunAsync(["a", "bb", "ccc"], upper).WaitAsync(Bound);

        Assert.True(result.Completed, result.ToString());
        Assert.Equal(["1", "2", "3"], lines.Order());
        await Processes.AssertAllGoneAsync(upper.ProcessIds, count.ProcessIds);
    }

    [Fact]
    public async Task A_command_stage_given_a_remote_launcher_is_refused_when_built_not_run_here_silently()
    {
        await using var scope = new NurseryScope(Pipelines.Quick());
        var options = new StageOptions { Worker = new WorkerOptions { Launcher = Launcher.Ssh("node1") } };

        var perItem = Assert.Throws<ArgumentException>(() => scope.CommandStage(Command.PerItem<string, string>("cat"), options));
        var persistent = Assert.Throws<ArgumentException>(() => scope.CommandStage(Command.Python<int, int>("worker.py"), options));

        Assert.Contains("run their programs on this machine", perItem.Message, StringComparison.Ordinal);
        Assert.Contains("Launcher.Local", persistent.Message, StringComparison.Ordinal);
    }
}
