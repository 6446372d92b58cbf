using System.Text.Json;

namespace Nursery.Etl.Tests;

/// <summary>
/// Resuming with the default paths, as a user does after an abort: the input is kept, transient faults stay spent, the
/// printed resume command finishes the run, and the progress counts the items done before.
/// </summary>
public sealed class ResumeTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("nursery-etl-resume-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Input => Path.Combine(_directory, "etl-out", "orders.jsonl");

    [Fact]
    public async Task Resume_without_input_options_keeps_the_generated_input_and_runs_only_the_failed_items()
    {
        var first = await EtlProcess.RunSampleAsync(_directory, "--generate", "500", "--inject", "throw:3", "--policy", "skip");
        Assert.True(first.ExitCode == 0, first.Output);
        var input = await File.ReadAllTextAsync(Input);

        var second = await EtlProcess.RunSampleAsync(_directory, "--resume", "--policy", "skip");

        Assert.True(second.ExitCode == 0, second.Output);
        Assert.Equal(input, await File.ReadAllTextAsync(Input));
        Assert.DoesNotContain("generating", second.Output, StringComparison.Ordinal);
        Assert.Equal(497, second.Summary!.Resumed);
        Assert.Equal(3, second.Summary.Inputs);
        // The plain progress line counts the items done by the earlier run, so it reaches the total.
        Assert.Contains("items 500/500 done (497 by an earlier run)", second.Output, StringComparison.Ordinal);
        await EtlProcess.AssertNoChildLeftAsync(second.Summary);
    }

    [Fact]
    public async Task Generate_with_resume_over_an_existing_input_is_a_usage_error_that_leaves_the_input()
    {
        var first = await EtlProcess.RunSampleAsync(_directory, "--generate", "50");
        Assert.True(first.ExitCode == 0, first.Output);
        var input = await File.ReadAllTextAsync(Input);

        var second = await EtlProcess.RunSampleAsync(_directory, "--resume", "--generate", "80");

        Assert.True(second.ExitCode == 2, second.Output);
        Assert.Contains("--generate would overwrite", second.Output, StringComparison.Ordinal);
        Assert.Equal(input, await File.ReadAllTextAsync(Input));
    }

    [Fact]
    public async Task After_an_abort_the_printed_resume_command_finishes_the_run_and_a_transient_fault_does_not_fire_again()
    {
        // kill:1 is transient: it hits its item's first attempt only, and fail-fast aborts the run there.
        var first = await EtlProcess.RunSampleAsync(_directory, "--generate", "400", "--inject", "kill:1", "--workers", "1");
        Assert.True(first.ExitCode == 1, first.Output);
        var command = ResumeCommandIn(first.Output);

        var second = await EtlProcess.RunSampleAsync(_directory, [.. command]);

        Assert.True(second.ExitCode == 0, $"{string.Join(' ', command)}\n{second.Output}");
        Assert.Equal(0, second.Summary!.Failed);
        Assert.Equal(400, second.Summary.Resumed + second.Summary.Succeeded);
        Assert.Equal(400, EtlProcess.DistinctLines(Path.Combine(_directory, "etl-out", "orders.db")));
        await EtlProcess.AssertNoChildLeftAsync(first.Summary!);
        await EtlProcess.AssertNoChildLeftAsync(second.Summary);
    }

    [Fact]
    public async Task Under_skip_every_failure_has_its_full_report_in_failures_jsonl()
    {
        var run = await EtlProcess.RunSampleAsync(_directory, "--generate", "300", "--inject", "throw:4", "--policy", "skip");

        Assert.True(run.ExitCode == 0, run.Output);
        var lines = await File.ReadAllLinesAsync(Path.Combine(_directory, "failures.jsonl"));
        Assert.Equal(4, lines.Length);
        foreach (var line in lines)
        {
            using var failure = JsonDocument.Parse(line);
            Assert.Equal("Faulted", failure.RootElement.GetProperty("Kind").GetString());
            Assert.Equal("parse", failure.RootElement.GetProperty("Stage").GetString());
            Assert.Contains("at Nursery.Etl.Bodies.Faults.Apply", failure.RootElement.GetProperty("Report").GetString(), StringComparison.Ordinal);
        }
        Assert.Equal(4, lines.Select(line => JsonDocument.Parse(line).RootElement.GetProperty("Key").GetString()).Distinct().Count());
        await EtlProcess.AssertNoChildLeftAsync(run.Summary!);
    }

    /// <summary>The arguments of the resume command the sample printed (after "dotnet &lt;the sample&gt;"), unquoted.</summary>
    private static string[] ResumeCommandIn(string output)
    {
        var line = output.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith("dotnet ", StringComparison.Ordinal) && l.EndsWith("--resume", StringComparison.Ordinal));
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(word => word.Trim('\'')).ToArray();
        Assert.Equal(EtlProcess.SampleDll, words[1]);
        Assert.DoesNotContain("--generate", words);
        // --summary is the test's own, given again by RunSampleAsync.
        var arguments = words.Skip(2).ToList();
        var summary = arguments.IndexOf("--summary");
        if (summary >= 0)
            arguments.RemoveRange(summary, 2);
        return [.. arguments];
    }
}
