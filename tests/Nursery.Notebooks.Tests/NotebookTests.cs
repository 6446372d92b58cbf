using System.Globalization;
using System.Text.RegularExpressions;
using Nursery.Tests.Support;

namespace Nursery.Notebooks.Tests;

/// <summary>
/// Each notebook in notebooks/ runs through the real .NET Interactive kernel, cell by cell, as a notebook front end runs
/// it; a cell that fails stops the run and fails the test, naming the cell. What the cells show is checked, the
/// children they started must be gone after the last cell, and so must the kernel after it is quit. With
/// NURSERY_NOTEBOOKS_UPDATE=1 the outputs are written back into the .ipynb, so the committed notebooks show a real run.
/// </summary>
public sealed partial class NotebookTests
{
    [Fact]
    public async Task The_FSharp_quickstart_shows_a_throw_a_kill_and_an_OOM_as_values_and_leaves_no_child()
    {
        var ran = await RunAsync("quickstart-fsharp.ipynb");

        Assert.Contains("Nursery loaded from NotebookBodies/bin/Debug/net10.0/", ran.Shown("#r \"NotebookBodies/"));
        AssertSquares(ran.Shown("Pipeline.run [ 1L .. 10L ]"));
        AssertChaosRun(ran.Shown("Work.WaitForPid"));
        AssertFailureTable(ran.Shown("for record in chaosResult.Records"));
        AssertFailuresMatched(ran.Shown("| Faulted f ->"));
        Assert.Matches(@"^Crashed: the child was killed by signal 9 \(SIGKILL\)", ran.Shown("f.Kind = FailureKind.Crashed"));
        AssertChildrenGone(ran.Shown("scope.Dispose()"));
        Assert.Contains("is defined in a dynamic assembly", ran.Shown("Pipeline.body (fun"));
        AssertCompiledInACell(ran.Shown("Compile.FSharp"), "Cell.fs:line ");
        AssertResultAsHtml(ran.Cell("Formatter.Register<PipelineResult>"));
        AssertCommandStage(ran.Shown("Command.PerItem"));
    }

    [Fact]
    public async Task The_CSharp_quickstart_shows_a_throw_a_kill_and_an_OOM_as_values_and_leaves_no_child()
    {
        var ran = await RunAsync("quickstart-csharp.ipynb");

        Assert.Contains("Nursery loaded from NotebookBodies/bin/Debug/net10.0/", ran.Shown("#r \"NotebookBodies/"));
        AssertSquares(ran.Shown("Enumerable.Range(1, 10)"));
        AssertChaosRun(ran.Shown("Work.WaitForPid"));
        AssertFailureTable(ran.Shown("foreach (var record in chaosResult.Records"));
        AssertFailuresMatched(ran.Shown(".Match("));
        var report = ran.Cell("f.Kind == FailureKind.Faulted");
        Assert.Equal(OutputKind.Result, Assert.Single(report.Outputs).Kind); // the cell's value, shown as its result
        Assert.Matches(@"^Faulted: the body threw System.InvalidOperationException: the order ""throw"" cannot be carried out", report.Text);
        AssertChildrenGone(ran.Shown("await scope.DisposeAsync()"));
        Assert.Contains("is defined in a dynamic assembly", ran.Shown("Body.From<string, int>(order =>"));
        AssertCompiledInACell(ran.Shown("Compile.CSharp"), "Cell.cs:line ");
        AssertResultAsHtml(ran.Cell("Formatter.Register<PipelineResult>"));
        AssertCommandStage(ran.Shown("Command.PerItem"));
    }

    // The result, shown through HtmlView once registered as the kernel's HTML formatter: the counts and the timeline.
    private static void AssertResultAsHtml(CellRun cell)
    {
        var html = Assert.Single(cell.Outputs).Values["text/html"];
        Assert.Contains("class=\"nursery-result\"", html, StringComparison.Ordinal);
        Assert.Contains("&nbsp;&nbsp;Faulted</td>", html, StringComparison.Ordinal);
        Assert.Contains("<svg", html, StringComparison.Ordinal);
    }

    // The function written in a cell, compiled with Nursery.Interactive, ran in children; its throw names the cell's line.
    private static void AssertCompiledInACell(string shown, string frame)
    {
        Assert.Contains("celsius: 0, 100, 100", shown);
        Assert.Contains("not a reading: '20 K'", shown);
        Assert.Contains(frame, shown);
        AssertChildrenGone(shown);
    }

    [Fact]
    public async Task The_failures_notebook_produces_each_of_the_seven_failures_and_leaves_no_child()
    {
        var ran = await RunAsync("failures.ipynb");

        Assert.Equal("ready\n", ran.Shown("let runStage"));
        Assert.Contains("item 1 => Faulted", ran.Shown("[ \"square 2\"; \"throw\"; \"square 3\" ]"));
        var startFailed = ran.Shown("Pipeline.withInitializer Work.ConnectTo");
        Assert.Matches("^refused: The initializer '.*' is defined in a dynamic assembly", startFailed);
        Assert.Contains("=> StartFailed", startFailed);
        Assert.Contains("item 0 => Crashed", ran.Shown("[ \"exit 3\" ]"));
        var oom = ran.Shown("[ \"allocate 512\" ]");
        Assert.True(oom.Contains("item 0 => OutOfMemory", StringComparison.Ordinal) || oom.Contains("no writable memory cgroup", StringComparison.Ordinal), oom);
        Assert.Contains("item 0 => TimedOut", ran.Shown("ItemTimeout ="));
        Assert.Contains("item 0 => ProtocolViolation", ran.Shown("[ \"garbage\" ]"));
        var aborted = ran.Shown("Policy.FailFast");
        Assert.StartsWith("completed: false", aborted);
        Assert.Contains("=> Cancelled", aborted);
        var advice = ran.Shown("let advice failure");
        foreach (var kind in new[] { "Faulted", "StartFailed", "Crashed", "TimedOut", "ProtocolViolation", "Cancelled" })
            Assert.Matches($"(?m)^{kind} +\\S", advice);
        AssertChildrenGone(ran.Shown("Work.AllGone started"));
    }

    [Fact]
    public async Task An_FSharp_notebook_whose_cell_throws_fails_and_names_the_cell_and_the_kernel_is_gone()
    {
        var result = await RunScratchAsync("fsharp", ["printfn \"first\"", "let x = 1\nif x = 1 then failwith \"broken on purpose\"", "printfn \"never\""]);

        Assert.False(result.Run.Succeeded);
        Assert.Contains("broken on purpose", result.Run.Error);
        Assert.Contains("scratch.ipynb, cell 2", result.Run.Error);
        Assert.Equal("first\n", result.Run.Cells[0].Text);
        Assert.Equal(2, result.Run.Cells.Count);
        AssertKernelGone(result);
    }

    [Fact]
    public async Task A_CSharp_notebook_shows_printed_text_a_displayed_value_and_a_cell_result_then_names_the_cell_that_throws()
    {
        var result = await RunScratchAsync(
            "csharp",
            ["Console.WriteLine(\"first\");\nvar answer = 41;", "display(\"shown\");\nanswer + 1", "#!fsharp\nprintfn \"from %s\" \"F#\"", "throw new InvalidOperationException(\"broken on purpose\");"]
        );

        Assert.False(result.Run.Succeeded);
        Assert.Contains("broken on purpose", result.Run.Error);
        Assert.Contains("scratch.ipynb, cell 4", result.Run.Error);
        Assert.Equal("first\n", result.Run.Cells[0].Text);
        Assert.Equal([OutputKind.Display, OutputKind.Result], result.Run.Cells[1].Outputs.Select(output => output.Kind));
        Assert.Equal("shown", result.Run.Cells[1].Outputs[0].Text.Trim());
        Assert.Equal("42", result.Run.Cells[1].Outputs[1].Text.Trim());
        Assert.Equal("from F#\n", result.Run.Cells[2].Text);
        AssertKernelGone(result);
    }

    private static void AssertSquares(string shown)
    {
        Assert.Matches(@"^completed in \S+ m?s: 10 inputs, 10 succeeded, 0 failed\n", shown);
        Assert.Contains("squares: 1, 4, 9, 16, 25, 36, 49, 64, 81, 100\n", shown);
    }

    // Six orders, the "hold" one killed by the notebook; the OOM is a success only where no memory cgroup can be made.
    private static void AssertChaosRun(string shown)
    {
        Assert.Matches(@"^kill -9 \d+\n", shown);
        Assert.Matches(@"completed in \S+ m?s: 6 inputs, (3 succeeded, 3 failed|4 succeeded, 2 failed)", shown);
        Assert.Matches(@"(?m)^  Faulted +1$", shown);
        Assert.Matches(@"(?m)^  Crashed +1$", shown);
    }

    // The table has a row per order; the throw, the kill and the OOM are failures (the OOM is a success only where
    // no memory cgroup can be made).
    private static void AssertFailureTable(string output)
    {
        Assert.Matches(@"(?m)^item +order +outcome +pid +detail$", output);
        Assert.Matches(@"(?m)^0\s+square 3\s+Succeeded\s", output);
        Assert.Matches(@"(?m)^1\s+throw\s+Faulted\s", output);
        Assert.Matches(@"(?m)^4\s+hold \S*\s+Crashed\s.*signal 9", output);
        Assert.Matches(@"(?m)^3\s+allocate 512\s+(OutOfMemory|Crashed|Succeeded)\s", output);
        Assert.Matches(@"(?m)^5\s+square 5\s+Succeeded\s", output);
        Assert.Contains("balanced: True (6 inputs = ", output, StringComparison.OrdinalIgnoreCase);
    }

    // The failures matched case by case: the throw as a bug, the kill as a crash (the OOM too, where it happened).
    private static void AssertFailuresMatched(string shown)
    {
        Assert.Matches(@"(?m)^item 1: a bug — System.InvalidOperationException: the order ""throw"" cannot be carried out", shown);
        Assert.Matches(@"(?m)^item 4: crashed — the child was killed by signal 9", shown);
    }

    private static void AssertCommandStage(string shown)
    {
        Assert.Contains(shown.Split('\n')[0], new[] { "HELLO / FROM A COMMAND STAGE", "FROM A COMMAND STAGE / HELLO" });
        Assert.Contains("item 1: Crashed: the child exited with code 3\n", shown);
        AssertChildrenGone(shown);
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

    private static async Task<Ran> RunAsync(string name)
    {
        var notebook = Notebook.Load(Path.Combine(Repository.Root, "notebooks", name));
        var result = await NotebookKernelRun.RunAsync(notebook);
        var run = result.Run;
        Assert.True(run.Succeeded, run.Error);
        AssertKernelGone(result);
        if (Environment.GetEnvironmentVariable("NURSERY_NOTEBOOKS_UPDATE") == "1")
        {
            notebook.WriteOutputs(run.Cells);
            return new Ran(notebook, run);
        }
        // Outputs hold pids and timings, so they are not compared as text; but a cell that shows something must have
        // recorded outputs, and one that shows nothing must have none: otherwise the committed notebook is stale.
        var recorded = notebook.RecordedOutputs;
        for (var i = 0; i < run.Cells.Count; i++)
            Assert.True(run.Cells[i].Text.Length > 0 == recorded[i].Length > 0, $"{name}, cell {i + 1}: the recorded outputs are stale; run the tests with NURSERY_NOTEBOOKS_UPDATE=1");
        return new Ran(notebook, run);
    }

    // Nothing the notebook started outlives its last cell, and the kernel is gone once quit.
    private static void AssertKernelGone(KernelRunResult result)
    {
        Assert.True(result.LeftRunning.Count == 0, $"the notebook left processes running after its last cell:\n{string.Join("\n", result.LeftRunning)}");
        Assert.True(result.KernelPid > 0, "the kernel never named its pid");
        Assert.True(result.KernelGone, $"the kernel (pid {result.KernelPid}) or a process it started is still running");
    }

    private static async Task<KernelRunResult> RunScratchAsync(string language, string[] cells)
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
                ["metadata"] = new System.Text.Json.Nodes.JsonObject
                {
                    ["polyglot_notebook"] = new System.Text.Json.Nodes.JsonObject { ["kernelInfo"] = new System.Text.Json.Nodes.JsonObject { ["defaultKernelName"] = language } },
                },
                ["nbformat"] = 4,
                ["nbformat_minor"] = 5,
            };
            await File.WriteAllTextAsync(path, json.ToJsonString());
            return await NotebookKernelRun.RunAsync(Notebook.Load(path));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>A notebook and what its cells showed when it ran.</summary>
    private sealed record Ran(Notebook Notebook, NotebookRun Run)
    {
        /// <summary>The run of the one code cell whose source holds <paramref name="fragment"/>.</summary>
        public CellRun Cell(string fragment)
        {
            var matching = Notebook.CodeCells.Where(cell => cell.Source.Contains(fragment, StringComparison.Ordinal)).ToList();
            Assert.True(matching.Count == 1, $"{Notebook.Name}: {matching.Count} code cells hold '{fragment}', not one");
            return Run.Cells[matching[0].Number - 1];
        }

        /// <summary>What the one code cell whose source holds <paramref name="fragment"/> showed, as plain text.</summary>
        public string Shown(string fragment) => Cell(fragment).Text;
    }

    [GeneratedRegex(@"children: ([0-9, ]+) — all gone: (\w+)")]
    private static partial Regex ChildrenLine();
}
