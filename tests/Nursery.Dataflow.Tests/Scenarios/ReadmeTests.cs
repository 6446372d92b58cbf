using System.Text.RegularExpressions;
using Nursery.Tests.Support;

namespace Nursery.Dataflow.Tests.Scenarios;

/// <summary>The README's C# example is samples/Readme/Program.cs, word for word, and it runs as it says.</summary>
public sealed partial class ReadmeTests
{
    [Fact]
    public void The_readme_shows_the_compiled_example_exactly()
    {
        var root = Repository.Root;
        var readme = File.ReadAllText(Path.Combine(root, "README.md"));
        var program = File.ReadAllText(Path.Combine(root, "samples", "Readme", "Program.cs"));

        var block = CSharpBlock().Match(readme);

        Assert.True(block.Success, "README.md has no ```csharp block");
        Assert.Equal(program.Trim().ReplaceLineEndings(), block.Groups["code"].Value.Trim().ReplaceLineEndings());
    }

    [Fact]
    public async Task The_readme_example_prints_what_its_comments_say()
    {
        var run = await ProcessRun.RunAsync(ChildHostLocation.Default.DotnetExecutable, [Path.Combine(AppContext.BaseDirectory, "Nursery.Readme.dll")], Environment.CurrentDirectory, TimeSpan.FromSeconds(60));

        var text = run.Stdout;
        Assert.True(run.ExitCode == 0, text + run.Stderr);
        Assert.Contains("4 inputs, 3 succeeded, 1 failed", text, StringComparison.Ordinal);
        Assert.Contains("System.FormatException", text, StringComparison.Ordinal);
        Assert.Contains("sum of squares: 21", text, StringComparison.Ordinal);
    }

    [GeneratedRegex("```csharp\\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();
}
