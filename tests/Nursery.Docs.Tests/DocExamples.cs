using System.Text.RegularExpressions;

namespace Nursery.Docs.Tests;

/// <summary>
/// Finds the code examples of README.md, docs/*.md and the XML doc comments of src/: &lt;code&gt; blocks in C#, and
/// in F# the lines of a /// comment indented by four more spaces than its text (the markdown way F# tools show them).
/// A markdown block is ```csharp or ```fsharp; an HTML comment right before it (blank lines between are allowed) may say
/// <c>&lt;!-- example fragment: why it is not compiled --&gt;</c> or
/// <c>&lt;!-- example context:</c> code around the example, with a line <c>{{example}}</c> where the example goes <c>--&gt;</c>.
/// Any other comment that starts with "example" is refused, so a misspelt marker cannot silently skip a block.
/// </summary>
public static partial class DocExamples
{
    private static readonly Lazy<IReadOnlyList<DocExample>> All = new(Find);

    public static string Root { get; } = FindRoot();

    /// <summary>Where the F# examples of src/'s XML docs are compiled: it declares the names they use.</summary>
    public const string FSharpXmlDocContext = "tests/Nursery.Docs.Tests/FSharpXmlDocContext.fsx";

    public static IReadOnlyList<DocExample> Examples => All.Value;

    public static DocExample Named(string name) => Examples.Single(example => example.Name == name);

    private static IReadOnlyList<DocExample> Find()
    {
        var markdown = new[] { Path.Combine(Root, "README.md") }
            .Concat(Directory.GetFiles(Path.Combine(Root, "docs"), "*.md").Order(StringComparer.Ordinal));
        var xmlDocs = Directory.GetFiles(Path.Combine(Root, "src"), "*.*", SearchOption.AllDirectories)
            .Where(path => (path.EndsWith(".cs", StringComparison.Ordinal) || path.EndsWith(".fs", StringComparison.Ordinal))
                           && !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                           && !path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
        return [.. markdown.SelectMany(FromMarkdown), .. xmlDocs.SelectMany(path => path.EndsWith(".fs", StringComparison.Ordinal) ? FromFSharpXmlDocs(path) : FromXmlDocs(path))];
    }

    public static IEnumerable<DocExample> FromMarkdown(string path)
    {
        var file = Relative(path);
        var lines = File.ReadAllLines(path);
        for (var i = 0; i < lines.Length; i++)
        {
            var fence = Fence().Match(lines[i]);
            if (!fence.Success)
                continue;
            var language = fence.Groups["language"].Value;
            var start = i + 1;
            var end = start;
            while (end < lines.Length && !lines[end].TrimStart().StartsWith("```", StringComparison.Ordinal))
                end++;
            if (end == lines.Length)
                throw new InvalidDataException($"{file}:{i + 1}: the ``` block is not closed");
            i = end;
            if (language is not ("csharp" or "fsharp"))
                continue;
            var indent = fence.Groups["indent"].Value.Length;
            var code = string.Join("\n", lines[start..end].Select(line => line.Length >= indent ? line[indent..] : line.TrimStart()));
            var (context, fragment) = Marker(lines, start - 1, file);
            yield return new DocExample(file, start + 1, language, code, context, fragment);
        }
    }

    /// <summary>The &lt;code&gt; blocks of /// comments: C#, with the XML entities decoded.</summary>
    public static IEnumerable<DocExample> FromXmlDocs(string path)
    {
        var file = Relative(path);
        var lines = File.ReadAllLines(path);
        for (var i = 0; i < lines.Length; i++)
        {
            var open = lines[i].IndexOf("/// <code>", StringComparison.Ordinal);
            if (open < 0)
                continue;
            var start = i + 1;
            var end = start;
            while (end < lines.Length && !lines[end].Contains("</code>", StringComparison.Ordinal))
                end++;
            if (end == lines.Length)
                throw new InvalidDataException($"{file}:{i + 1}: the <code> block is not closed");
            i = end;
            var code = string.Join("\n", lines[start..end].Select(line =>
            {
                var text = line.TrimStart();
                text = text.StartsWith("/// ", StringComparison.Ordinal) ? text[4..] : text.TrimStart('/');
                return System.Net.WebUtility.HtmlDecode(text);
            }));
            yield return new DocExample(file, start + 1, "csharp", code, null, null);
        }
    }

    /// <summary>
    /// The code blocks of F# /// comments: a run of lines whose text starts with four spaces (blank /// lines inside
    /// the run belong to it), compiled in <see cref="FSharpXmlDocContext"/>.
    /// </summary>
    public static IEnumerable<DocExample> FromFSharpXmlDocs(string path)
    {
        var file = Relative(path);
        var lines = File.ReadAllLines(path);
        ExampleContext? context = null;
        for (var i = 0; i < lines.Length; i++)
        {
            if (DocText(lines[i]) is not { } first || !first.StartsWith("    ", StringComparison.Ordinal) || first.Trim().Length == 0)
                continue;
            var end = i;
            while (end + 1 < lines.Length && DocText(lines[end + 1]) is { } next
                   && (next.StartsWith("    ", StringComparison.Ordinal) || (next.Trim().Length == 0 && end + 2 < lines.Length
                       && DocText(lines[end + 2]) is { } after && after.StartsWith("    ", StringComparison.Ordinal))))
                end++;
            var block = lines[i..(end + 1)].Select(line => DocText(line)!).ToList();
            var indent = block.Where(line => line.Trim().Length > 0).Min(line => line.Length - line.TrimStart().Length);
            var code = string.Join("\n", block.Select(line => line.Length >= indent ? line[indent..] : ""));
            context ??= LoadContext(FSharpXmlDocContext);
            yield return new DocExample(file, i + 1, "fsharp", code, context, null);
            i = end;
        }
    }

    /// <summary>The text of a /// comment line after "/// " (or "///"), or null for any other line.</summary>
    private static string? DocText(string line)
    {
        var text = line.TrimStart();
        if (!text.StartsWith("///", StringComparison.Ordinal) || text.StartsWith("////", StringComparison.Ordinal))
            return null;
        return text.StartsWith("/// ", StringComparison.Ordinal) ? text[4..] : text[3..];
    }

    private static ExampleContext LoadContext(string file)
    {
        var lines = File.ReadAllLines(Path.Combine(Root, file));
        if (lines.Count(line => line.Trim() == ExampleContext.Placeholder) != 1)
            throw new InvalidDataException($"{file}: an example context needs exactly one line '{ExampleContext.Placeholder}' where the example goes");
        return new ExampleContext(file, 1, lines);
    }

    /// <summary>The example marker in the HTML comment that ends on the last non-blank line before the fence, if any.</summary>
    private static (ExampleContext? Context, string? Fragment) Marker(string[] lines, int fenceIndex, string file)
    {
        var last = fenceIndex - 1;
        while (last >= 0 && lines[last].Trim().Length == 0)
            last--;
        if (last < 0 || !lines[last].TrimEnd().EndsWith("-->", StringComparison.Ordinal))
            return (null, null);
        var first = last;
        while (first >= 0 && !lines[first].Contains("<!--", StringComparison.Ordinal))
            first--;
        if (first < 0)
            return (null, null);
        var comment = string.Join("\n", lines[first..(last + 1)]).Trim();
        var body = comment["<!--".Length..^"-->".Length].Trim();
        if (!body.StartsWith("example", StringComparison.Ordinal))
            return (null, null);
        if (body.StartsWith("example fragment:", StringComparison.Ordinal))
        {
            var reason = body["example fragment:".Length..].Trim();
            if (reason.Length == 0)
                throw new InvalidDataException($"{file}:{first + 1}: '<!-- example fragment: -->' must say why the block is not compiled");
            return (null, reason);
        }
        if (lines[first].Trim() == "<!-- example context:" && lines[last].Trim() == "-->")
        {
            var context = lines[(first + 1)..last];
            if (context.Count(line => line.Trim() == ExampleContext.Placeholder) != 1)
                throw new InvalidDataException($"{file}:{first + 1}: an example context needs exactly one line '{ExampleContext.Placeholder}' where the example goes");
            return (new ExampleContext(file, first + 2, context), null);
        }
        throw new InvalidDataException(
            $"{file}:{first + 1}: unknown example marker '{body.Split('\n')[0]}'. Write '<!-- example fragment: why -->' on one line, or "
            + $"'<!-- example context:' on its own line, the code with a line '{ExampleContext.Placeholder}', and '-->' on its own line.");
    }

    private static string Relative(string path) => Path.GetRelativePath(Root, path).Replace(Path.DirectorySeparatorChar, '/');

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Dataflow.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException($"no Dataflow.sln above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"^(?<indent>\s*)```(?<language>[A-Za-z0-9+#-]*)\s*$")]
    private static partial Regex Fence();
}
