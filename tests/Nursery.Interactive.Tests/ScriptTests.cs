using System.Globalization;
using System.Text.RegularExpressions;
using Nursery.Tests.Support;

namespace Nursery.Interactive.Tests;

/// <summary>
/// The shipped samples/Scripts run as a user runs them: a .NET 10 file-based app (<c>dotnet run pipeline.cs</c>),
/// whose functions are bodies as they are, and an F# script (<c>dotnet fsi work.fsx</c>), whose bodies are compiled
/// with <see cref="Compile.FSharp"/>. Each prints its result and its children, which must be gone.
/// </summary>
public sealed partial class ScriptTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(8);

    private static string Scripts => Path.Combine(Repository.Root, "samples", "Scripts");

    [Fact]
    public async Task A_file_based_app_runs_the_functions_written_in_it_in_child_processes()
    {
        var run = await ProcessRun.RunAsync(ProcessRun.Dotnet, ["run", "pipeline.cs"], Scripts, Bound, closeStdin: true);

        Assert.False(run.TimedOut, run.Stderr);
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}{Environment.NewLine}{run.Stdout}{Environment.NewLine}{run.Stderr}");
        Assert.Contains("4 inputs, 3 succeeded, 1 failed", run.Stdout);
        Assert.Contains("Faulted: the body threw System.FormatException", run.Stdout);
        Assert.Contains("at Work.Parse(String text) in ", run.Stdout);
        Assert.Contains("sum of squares: 21", run.Stdout);
        await Processes.AssertAllGoneAsync(Children(run.Stdout));
    }

    [Fact]
    public async Task An_FSharp_script_runs_the_bodies_it_compiles_in_child_processes()
    {
        var cache = Directory.CreateTempSubdirectory("nursery-script-cache-");
        try
        {
            var run = await ProcessRun.RunAsync(
                ProcessRun.Dotnet,
                ["fsi", "--quiet", "work.fsx"],
                Scripts,
                Bound,
                start => start.Environment["NURSERY_COMPILE_CACHE"] = cache.FullName,
                closeStdin: true
            );

            Assert.False(run.TimedOut, run.Stderr);
            Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}{Environment.NewLine}{run.Stdout}{Environment.NewLine}{run.Stderr}");
            Assert.Contains("4 inputs, 3 succeeded, 1 failed", run.Stdout);
            Assert.Contains("Faulted: the body threw System.Exception: not a reading: 'warm'", run.Stdout);
            Assert.Contains("celsius: 0, 100, 100", run.Stdout);
            // The script's source went through the compiler into the cache given, not into F# Interactive's memory.
            Assert.Single(cache.GetDirectories("nursery-cell-fs-*"));
            await Processes.AssertAllGoneAsync(Children(run.Stdout));
        }
        finally
        {
            cache.Delete(recursive: true);
        }
    }

    [GeneratedRegex(@"^children: (?<pids>[\d, ]+) — all gone: (?<gone>\w+)$", RegexOptions.Multiline)]
    private static partial Regex ChildrenLine();

    private static int[] Children(string stdout)
    {
        var match = ChildrenLine().Match(stdout);
        Assert.True(match.Success, $"no 'children: …' line in:{Environment.NewLine}{stdout}");
        Assert.Equal("true", match.Groups["gone"].Value, ignoreCase: true);
        var pids = match.Groups["pids"].Value.Split(", ").Select(pid => int.Parse(pid, CultureInfo.InvariantCulture)).ToArray();
        Assert.NotEmpty(pids);
        return pids;
    }
}
