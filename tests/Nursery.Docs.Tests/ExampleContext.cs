namespace Nursery.Docs.Tests;

/// <summary>
/// The code an example is compiled inside: for a markdown block, written in an HTML comment before it so that the
/// rendered page shows only the example; for the F# XML docs of src/, <see cref="DocExamples.FSharpXmlDocContext"/>.
/// The line <see cref="Placeholder"/> stands for the example; <paramref name="FirstLine"/> is the 1-based line of the
/// context's first line in <paramref name="File"/>, so that an error in the context names its line too.
/// </summary>
public sealed record ExampleContext(string File, int FirstLine, IReadOnlyList<string> Lines)
{
    public const string Placeholder = "{{example}}";
}
