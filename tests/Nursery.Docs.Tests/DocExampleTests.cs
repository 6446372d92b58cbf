namespace Nursery.Docs.Tests;

/// <summary>Every C# and F# example of README.md, docs/*.md and the XML docs of src/ compiles against Nursery.</summary>
public sealed class DocExampleTests
{
    public static TheoryData<string> CSharp => Names("csharp");

    public static TheoryData<string> FSharp => Names("fsharp");

    public static TheoryData<string, string> Fragments
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var example in DocExamples.Examples.Where(example => example.FragmentReason is not null))
                data.Add(example.Name, example.FragmentReason!);
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(CSharp))]
    public void A_csharp_example_compiles(string example)
    {
        var errors = CSharpExamples.Errors(DocExamples.Named(example));

        Assert.True(errors.Count == 0, $"{example}: the C# example does not compile:\n{string.Join("\n", errors)}");
    }

    [Theory]
    [MemberData(nameof(FSharp))]
    public async Task An_fsharp_example_type_checks(string example)
    {
        var errors = await FSharpExamples.ErrorsAsync(DocExamples.Named(example));

        Assert.True(errors.Count == 0, $"{example}: the F# example does not type-check:\n{string.Join("\n", errors)}");
    }

    /// <summary>Skipped on purpose: the test's name shows the block and the reason its marker gives.</summary>
    [Theory]
    [MemberData(nameof(Fragments))]
    public void A_block_marked_as_a_fragment_is_not_compiled_and_says_why(string example, string reason)
    {
        var block = DocExamples.Named(example);

        Assert.Equal(reason, block.FragmentReason);
        Assert.False(string.IsNullOrWhiteSpace(reason), $"{example}: a fragment must say why it is not compiled");
    }

    [Fact]
    public void The_readme_and_the_docs_have_csharp_and_fsharp_examples_to_compile()
    {
        var compiled = DocExamples.Examples.Where(example => example.FragmentReason is null).ToList();

        Assert.Contains(compiled, example => example.File == "README.md" && example.Language == "csharp");
        Assert.Contains(compiled, example => example.File == "README.md" && example.Language == "fsharp");
        Assert.Contains(compiled, example => example.File.StartsWith("docs/", StringComparison.Ordinal) && example.Language == "fsharp");
        Assert.True(compiled.Count(example => example.File.StartsWith("docs/", StringComparison.Ordinal)) >= 5,
            $"only {compiled.Count} examples found: {string.Join(", ", compiled)}");
    }

    private static TheoryData<string> Names(string language)
    {
        var data = new TheoryData<string>();
        foreach (var example in DocExamples.Examples.Where(example => example.Language == language && example.FragmentReason is null))
            data.Add(example.Name);
        return data;
    }
}
