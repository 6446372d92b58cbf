namespace Nursery.Docs.Tests;

/// <summary>
/// One code example of the documentation: a ```csharp or ```fsharp block of a markdown file, or a &lt;code&gt; block of
/// an XML doc comment. <paramref name="Line"/> is the 1-based line of the example's first line of code in
/// <paramref name="File"/> (a path relative to the repository). <paramref name="Context"/> is the code the example is
/// compiled inside (from an <c>&lt;!-- example context: --&gt;</c> comment before it), <paramref name="FragmentReason"/>
/// why it is not compiled (from <c>&lt;!-- example fragment: reason --&gt;</c>).
/// </summary>
public sealed record DocExample(string File, int Line, string Language, string Code, ExampleContext? Context, string? FragmentReason)
{
    public string Name => $"{File}:{Line}";

    public override string ToString() => Name;
}
