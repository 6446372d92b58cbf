using System.Net;
using System.Text.RegularExpressions;

namespace Nursery.Notebooks.Tests;

/// <summary>What one event of a cell showed.</summary>
public enum OutputKind
{
    /// <summary>Text the cell wrote to Console.Out.</summary>
    Stdout,

    /// <summary>Text the cell wrote to Console.Error.</summary>
    Stderr,

    /// <summary>A value the cell displayed (<c>display</c>, <c>.Display()</c>).</summary>
    Display,

    /// <summary>The cell's last expression, shown as its result.</summary>
    Result,

    /// <summary>Why the cell failed (a compile error or an exception).</summary>
    Error,
}

/// <summary>One output of a cell, as the kernel formatted it: mime type to text.</summary>
public sealed partial record CellOutput(OutputKind Kind, IReadOnlyDictionary<string, string> Values)
{
    /// <summary>
    /// The output as a reader sees it in plain text: the text/plain form when the kernel made one, otherwise the
    /// text/html form without its tags and styles.
    /// </summary>
    public string Text =>
        Values.TryGetValue("text/plain", out var plain) ? plain
        : Values.TryGetValue("text/html", out var html) ? WebUtility.HtmlDecode(Tags().Replace(Styles().Replace(html, ""), " ")).Trim() + "\n"
        : "";

    [GeneratedRegex(@"<style>.*?</style>|<script.*?</script>", RegexOptions.Singleline)]
    private static partial Regex Styles();

    [GeneratedRegex("<[^>]+>")]
    private static partial Regex Tags();
}

/// <summary>What one code cell showed, in order, and why it failed (null when it succeeded).</summary>
public sealed record CellRun(int Number, IReadOnlyList<CellOutput> Outputs, string? Error)
{
    /// <summary>Everything the cell showed, as plain text, in order.</summary>
    public string Text => string.Concat(Outputs.Select(output => output.Text));
}

/// <summary>The cells a notebook run reached, and the error that stopped it (empty when none).</summary>
public sealed record NotebookRun(IReadOnlyList<CellRun> Cells, string Error)
{
    public bool Succeeded => Error.Length == 0;

    /// <summary>What every cell showed, as plain text.</summary>
    public string AllOutput => string.Concat(Cells.Select(cell => cell.Text));
}
