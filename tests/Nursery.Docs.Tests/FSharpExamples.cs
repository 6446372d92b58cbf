using Nursery.Tests.Support;
using System.Diagnostics;
using System.Text;

namespace Nursery.Docs.Tests;

/// <summary>
/// Type-checks an F# example with <c>dotnet fsi --typecheck-only</c>: a script that references Nursery's assemblies
/// from this test's output folder, opens System, Nursery and Nursery.FSharp, and holds the example (in its context).
/// The process is bounded by a timeout and killed, with its tree, when it outlives it.
/// </summary>
public static class FSharpExamples
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    /// <summary>The errors fsi reports, each naming the markdown file and line; empty when the example type-checks.</summary>
    public static async Task<IReadOnlyList<string>> ErrorsAsync(DocExample example)
    {
        var script = new StringBuilder();
        foreach (var assembly in Directory.GetFiles(AppContext.BaseDirectory, "*.dll").Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(assembly);
            if ((name.StartsWith("Nursery.", StringComparison.Ordinal) && name != "Nursery.Docs.Tests.dll")
                || name is "LanguageExt.Core.dll" or "CliWrap.dll" or "FsCheck.dll")
                script.Append("#r \"").Append(assembly).Append("\"\n");
        }
        script.Append("open System\nopen Nursery\nopen Nursery.FSharp\n");
        // fsi reads a relative path in a line directive as relative to the script: give it full paths, and name the
        // files relative to the repository again in the errors.
        var root = Path.GetFullPath(DocExamples.Root) + Path.DirectorySeparatorChar;
        script.Append(ExampleSource.Of(example, (line, file) => $"# {line} \"{Path.GetFullPath(Path.Combine(root, file))}\""));
        var directory = Directory.CreateTempSubdirectory("nursery-doc-example-");
        try
        {
            var path = Path.Combine(directory.FullName, "example.fsx");
            await File.WriteAllTextAsync(path, script.ToString());
            var run = await ProcessRun.RunAsync(ProcessRun.Dotnet, ["fsi", "--quiet", "--typecheck-only", path], directory.FullName, Timeout, closeStdin: true);
            var (exitCode, stdout, stderr) = (run.ExitCode, run.Stdout, run.TimedOut ? $"timed out after {Timeout}: dotnet fsi was killed\n{run.Stderr}" : run.Stderr);
            var errors = (stdout + "\n" + stderr).ReplaceLineEndings("\n").Split('\n')
                .Where(line => line.Contains("error FS", StringComparison.Ordinal) || line.StartsWith("timed out", StringComparison.Ordinal))
                .Select(line => line.Replace(root, "", StringComparison.Ordinal))
                .Distinct()
                .ToList();
            if (exitCode != 0 && errors.Count == 0)
                errors.Add($"{example.Name}: dotnet fsi exited with {exitCode}:\n{stderr}{stdout}");
            return errors;
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
