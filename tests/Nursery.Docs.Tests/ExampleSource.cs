using System.Text;

namespace Nursery.Docs.Tests;

/// <summary>
/// The source a compiler sees for an example: the example inside its context, with line directives so that every
/// error names the line of the markdown (or source) file it comes from.
/// </summary>
public static class ExampleSource
{
    /// <param name="lineDirective">The language's line directive for a 1-based line of a file.</param>
    public static string Of(DocExample example, Func<int, string, string> lineDirective)
    {
        var source = new StringBuilder();
        if (example.Context is null)
        {
            source.Append(lineDirective(example.Line, example.File)).Append('\n');
            source.Append(example.Code).Append('\n');
            return source.ToString();
        }
        source.Append(lineDirective(example.Context.FirstLine, example.Context.File)).Append('\n');
        for (var i = 0; i < example.Context.Lines.Count; i++)
        {
            var line = example.Context.Lines[i];
            if (line.Trim() != ExampleContext.Placeholder)
            {
                source.Append(line).Append('\n');
                continue;
            }
            var indent = line[..(line.Length - line.TrimStart().Length)];
            source.Append(lineDirective(example.Line, example.File)).Append('\n');
            foreach (var code in example.Code.Split('\n'))
                source.Append(indent).Append(code).Append('\n');
            source.Append(lineDirective(example.Context.FirstLine + i + 1, example.Context.File)).Append('\n');
        }
        return source.ToString();
    }
}
