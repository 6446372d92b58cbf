namespace Nursery.Notebooks.Tests;

/// <summary>What a notebook run printed, per code cell, and the error that stopped it (empty when none).</summary>
public sealed record NotebookRun(IReadOnlyList<string> Outputs, string Error)
{
    public bool Succeeded => Error.Length == 0;

    public string AllOutput => string.Join("", Outputs);

    /// <summary>A cell's printed lines as one text, without trailing blank lines, ending with a newline when not empty.</summary>
    public static string CellText(IEnumerable<string> lines)
    {
        var text = string.Join("\n", lines).TrimEnd('\n', ' ');
        return text.Length == 0 ? "" : text + "\n";
    }
}
