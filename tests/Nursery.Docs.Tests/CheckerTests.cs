namespace Nursery.Docs.Tests;

/// <summary>The checks can fail: a broken example is reported with its file, line and the compiler's message.</summary>
public sealed class CheckerTests
{
    [Fact]
    public void A_csharp_example_that_does_not_compile_is_reported_at_its_markdown_line()
    {
        var example = Markdown("""
            Text.

            ```csharp
            var options = new StageOptions { Workers = 2 };
            var wrong = options.NoSuchOption;
            ```
            """).Single();

        var errors = CSharpExamples.Errors(example);

        var error = Assert.Single(errors);
        Assert.StartsWith($"{example.File}:5: CS1061:", error, StringComparison.Ordinal);
        Assert.Contains("NoSuchOption", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_csharp_example_compiles_inside_its_context_and_an_error_names_the_context_line()
    {
        var examples = Markdown("""
            <!-- example context:
            IEnumerable<string> lines = [];
            {{example}}
            static class Orders { public static int Parse(string line) => line.Length; }
            -->
            ```csharp
            var lengths = lines.Select(Orders.Parse).ToList();
            ```

            <!-- example context:
            int missing = "text";
            {{example}}
            -->
            ```csharp
            var ok = 1;
            ```
            """);

        Assert.Empty(CSharpExamples.Errors(examples[0]));
        var error = Assert.Single(CSharpExamples.Errors(examples[1]));
        Assert.StartsWith($"{examples[1].File}:11: CS0029:", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_fsharp_example_that_does_not_type_check_is_reported_at_its_markdown_line()
    {
        var example = Markdown("""
            ```fsharp
            let options = StageOptions(Workers = 2)
            let wrong = options.NoSuchOption
            ```
            """).Single();

        var errors = await FSharpExamples.ErrorsAsync(example).WaitAsync(TimeSpan.FromMinutes(3));

        var error = Assert.Single(errors);
        Assert.Contains("page.md(3,", error, StringComparison.Ordinal);
        Assert.Contains("NoSuchOption", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_code_block_of_an_xml_doc_is_compiled_with_its_entities_decoded_and_an_error_names_its_source_line()
    {
        var directory = Directory.CreateTempSubdirectory("nursery-doc-source-");
        try
        {
            var path = Path.Combine(directory.FullName, "Documented.cs");
            File.WriteAllText(path, """
                namespace Sample;

                /// <summary>A type with examples.</summary>
                /// <example>
                /// <code>
                /// var options = new List&lt;StageOptions&gt; { new() { Workers = 2 } };
                /// </code>
                /// <code>
                /// var wrong = new StageOptions { NoSuchOption = 2 };
                /// </code>
                /// </example>
                public static class Documented;
                """);
            var examples = DocExamples.FromXmlDocs(path).ToList();

            Assert.Equal(2, examples.Count);
            Assert.Empty(CSharpExamples.Errors(examples[0]));
            var error = Assert.Single(CSharpExamples.Errors(examples[1]));
            Assert.StartsWith($"{examples[1].File}:9: CS0117:", error, StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_misspelt_marker_is_refused_rather_than_skipping_the_block()
    {
        var error = Assert.Throws<InvalidDataException>(() => Markdown("""
            <!-- example fragmnet: a signature -->
            ```csharp
            int Serialize();
            ```
            """));

        Assert.Contains("unknown example marker", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_fragment_marker_without_a_reason_is_refused()
    {
        var error = Assert.Throws<InvalidDataException>(() => Markdown("""
            <!-- example fragment: -->
            ```csharp
            int Serialize();
            ```
            """));

        Assert.Contains("must say why", error.Message, StringComparison.Ordinal);
    }

    private static List<DocExample> Markdown(string text)
    {
        var directory = Directory.CreateTempSubdirectory("nursery-doc-markdown-");
        try
        {
            var path = Path.Combine(directory.FullName, "page.md");
            File.WriteAllText(path, text);
            return [.. DocExamples.FromMarkdown(path)];
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
