using System.Globalization;
using System.Text.RegularExpressions;
using Nursery.Tests.Support;

namespace Nursery.Notebooks.Tests;

/// <summary>
/// Each notebook in notebooks/ runs headless, cell by cell; a cell that throws or does not compile fails the test,
/// naming the cell. With NURSERY_NOTEBOOKS_UPDATE=1 the outputs are written back into the .ipynb, so the committed
/// notebooks show a real run.
/// </summary>
public sealed partial class NotebookTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task The_FSharp_quickstart_shows_a_throw_a_kill_and_an_OOM_as_values_and_leaves_no_child()
    {
        var run = await RunAsync("quickstart-fsharp.ipynb");

        Assert.True(run.Succeeded, run.Error);
        Assert.Contains("squares: 1, 4, 9, 16, 25, 36, 49, 64, 81, 100", run.AllOutput);
        AssertFailureTable(run.AllOutput);
        Assert.Contains("is defined in a dynamic assembly", run.AllOutput);
        Assert.Contains("HELLO / FROM A COMMAND STAGE", run.AllOutput.Replace("FROM A COMMAND STAGE / HELLO", "HELLO / FROM A COMMAND STAGE"));
        Assert.Contains("item 1: Crashed: the child exited with code 3", run.AllOutput);
        // The function written in a cell, compiled with Nursery.Interactive, ran in children; its throw names the line.
        Assert.Contains("celsius: 0, 100, 100", run.AllOutput);
        Assert.Contains("not a reading: '20 K'", run.AllOutput);
        Assert.Contains("Cell.fs:line ", run.AllOutput);
        AssertChildrenGone(run.AllOutput);
    }

    [Fact]
    public async Task The_CSharp_quickstart_shows_a_throw_a_kill_and_an_OOM_as_values_and_leaves_no_child()
    {
        var run = await RunAsync("quickstart-csharp.ipynb");

        Assert.True(run.Succeeded, run.Error);
        Assert.Contains("squares: 1, 4, 9, 16, 25, 36, 49, 64, 81, 100", run.AllOutput);
        AssertFailureTable(run.AllOutput);
        Assert.Contains("is defined in a dynamic assembly", run.AllOutput);
        Assert.Contains("item 1: Crashed: the child exited with code 3", run.AllOutput);
        // The function written in a cell, compiled with Nursery.Interactive, ran in children; its throw names the line.
        Assert.Contains("celsius: 0, 100, 100", run.AllOutput);
        Assert.Contains("not a reading: '20 K'", run.AllOutput);
        Assert.Contains("Cell.cs:line ", run.AllOutput);
        AssertChildrenGone(run.AllOutput);
    }

    [Fact]
    public async Task The_failures_notebook_produces_each_of_the_seven_failures_and_leaves_no_child()
    {
        var run = await RunAsync("failures.ipynb");

        Assert.True(run.Succeeded, run.Error);
        foreach (var kind in new[] { "Faulted", "StartFailed", "Crashed", "TimedOut", "ProtocolViolation", "Cancelled" })
            Assert.Contains($"=> {kind}", run.AllOutput);
        Assert.True(run.AllOutput.Contains("=> OutOfMemory", StringComparison.Ordinal) || run.AllOutput.Contains("no writable memory cgroup", StringComparison.Ordinal), run.AllOutput);
        AssertChildrenGone(run.AllOutput);
    }

    [Fact]
    public async Task An_FSharp_notebook_whose_cell_throws_fails_and_names_the_cell()
    {
        var run = await RunScratchAsync("fsharp", ["printfn \"first\"", "let x = 1\nfailwith \"broken on purpose\""]);

        Assert.False(run.Succeeded);
        Assert.Contains("broken on purpose", run.Error);
        Assert.Contains("scratch.ipynb, cell 2", run.Error);
        Assert.Equal("first\n", run.Outputs[0]);
    }

    [Fact]
    public async Task A_CSharp_notebook_whose_cell_throws_fails_and_names_the_cell()
    {
        var run = await RunScratchAsync("csharp", ["Console.WriteLine(\"first\");", "var x = 1;\nthrow new InvalidOperationException(\"broken on purpose\");"]);

        Assert.False(run.Succeeded);
        Assert.Contains("broken on purpose", run.Error);
        Assert.Contains("scratch.ipynb, cell 2", run.Error);
        Assert.Equal("first\n", run.Outputs[0]);
    }

    // The table has a row per order; the throw, the kill and the OOM are failures (the OOM is a success only where
    // no memory cgroup can be made, and the notebook says so).
    private static void AssertFailureTable(string output)
    {
        Assert.True(Regex.IsMatch(output, @"(?m)^1\s+throw\s+Faulted\s"), output);
        Assert.True(Regex.IsMatch(output, @"(?m)^4\s+hold \S*\s+Crashed\s.*signal 9"), output);
        Assert.True(Regex.IsMatch(output, @"(?m)^3\s+allocate 512\s+(OutOfMemory|Crashed|Succeeded)\s"), output);
        if (Regex.IsMatch(output, @"(?m)^3\s+allocate 512\s+Succeeded"))
            Assert.Contains("no writable memory cgroup", output);
        Assert.True(Regex.IsMatch(output, @"(?m)^5\s+square 5\s+Succeeded\s"), output);
        Assert.Contains("balanced: True", output, StringComparison.OrdinalIgnoreCase);
    }

    // Every "children: 1, 2 — all gone: true" line the notebook printed, checked again here against /proc.
    private static void AssertChildrenGone(string output)
    {
        var lines = ChildrenLine().Matches(output);
        Assert.NotEmpty(lines);
        foreach (Match line in lines)
        {
            Assert.Equal("true", line.Groups[2].Value, ignoreCase: true);
            var pids = line.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(pid => int.Parse(pid, CultureInfo.InvariantCulture)).ToList();
            Assert.NotEmpty(pids);
            Assert.All(pids, pid => Assert.True(Processes.IsGone(pid), $"child {pid} is still running"));
        }
    }

    private static async Task<NotebookRun> RunAsync(string name)
    {
        var notebook = Notebook.Load(Path.Combine(Repository.Root, "notebooks", name));
        var language = notebook.CodeCells[0].Language;
        var run = language == "csharp" ? await CSharpNotebook.RunAsync(notebook, Bound) : await FSharpNotebook.RunAsync(notebook, Bound);
        if (Environment.GetEnvironmentVariable("NURSERY_NOTEBOOKS_UPDATE") == "1" && run.Succeeded)
        {
            notebook.WriteOutputs(run.Outputs);
            return run;
        }
        // Outputs hold pids and timings, so they are not compared as text; but a cell that prints must have recorded
        // outputs, and one that prints nothing must have none: otherwise the committed notebook is stale.
        if (run.Succeeded)
        {
            var recorded = notebook.RecordedOutputs;
            for (var i = 0; i < run.Outputs.Count; i++)
                Assert.True(run.Outputs[i].Length > 0 == recorded[i].Length > 0, $"{name}, cell {i + 1}: the recorded outputs are stale; run the tests with NURSERY_NOTEBOOKS_UPDATE=1");
        }
        return run;
    }

    private static async Task<NotebookRun> RunScratchAsync(string language, string[] cells)
    {
        var directory = Directory.CreateTempSubdirectory("nursery-notebook-").FullName;
        try
        {
            var path = Path.Combine(directory, "scratch.ipynb");
            var json = new System.Text.Json.Nodes.JsonObject
            {
                ["cells"] = new System.Text.Json.Nodes.JsonArray(
                    [
                        .. cells.Select(source => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject
                        {
                            ["cell_type"] = "code",
                            ["metadata"] = new System.Text.Json.Nodes.JsonObject { ["polyglot_notebook"] = new System.Text.Json.Nodes.JsonObject { ["kernelName"] = language } },
                            ["outputs"] = new System.Text.Json.Nodes.JsonArray(),
                            ["source"] = source,
                        }),
                    ]
                ),
                ["metadata"] = new System.Text.Json.Nodes.JsonObject(),
                ["nbformat"] = 4,
                ["nbformat_minor"] = 5,
            };
            await File.WriteAllTextAsync(path, json.ToJsonString());
            var notebook = Notebook.Load(path);
            return language == "csharp" ? await CSharpNotebook.RunAsync(notebook, Bound) : await FSharpNotebook.RunAsync(notebook, Bound);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [GeneratedRegex(@"children: ([0-9, ]+) — all gone: (\w+)")]
    private static partial Regex ChildrenLine();
}
