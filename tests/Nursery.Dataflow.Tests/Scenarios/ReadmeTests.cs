using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Nursery.Dataflow.Tests.Scenarios;

/// <summary>The README's C# example is samples/Readme/Program.cs, word for word, and it runs as it says.</summary>
public sealed partial class ReadmeTests
{
    [Fact]
    public void The_readme_shows_the_compiled_example_exactly()
    {
        var root = RepositoryRoot();
        var readme = File.ReadAllText(Path.Combine(root, "README.md"));
        var program = File.ReadAllText(Path.Combine(root, "samples", "Readme", "Program.cs"));

        var block = CSharpBlock().Match(readme);

        Assert.True(block.Success, "README.md has no ```csharp block");
        Assert.Equal(program.Trim().ReplaceLineEndings(), block.Groups["code"].Value.Trim().ReplaceLineEndings());
    }

    [Fact]
    public async Task The_readme_example_prints_what_its_comments_say()
    {
        var start = new ProcessStartInfo(ChildHostLocation.Default.DotnetExecutable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Nursery.Readme.dll"));
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
        }

        var text = await output.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(process.ExitCode == 0, text + await errors);
        Assert.Contains("4 inputs, 3 succeeded, 1 failed", text, StringComparison.Ordinal);
        Assert.Contains("System.FormatException", text, StringComparison.Ordinal);
        Assert.Contains("sum of squares: 21", text, StringComparison.Ordinal);
    }

    internal static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Dataflow.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("Dataflow.sln not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex("```csharp\\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();
}
