namespace Nursery.Docs.Tests;

/// <summary>
/// The code an example is compiled inside, written in an HTML comment before the block so that the rendered page shows
/// only the example. The line <see cref="Placeholder"/> stands for the example; <paramref name="FirstLine"/> is the
/// 1-based line of the context's first line in the markdown file, so that an error in the context names its line too.
/// </summary>
public sealed record ExampleContext(int FirstLine, IReadOnlyList<string> Lines)
{
    public const string Placeholder = "{{example}}";
}
