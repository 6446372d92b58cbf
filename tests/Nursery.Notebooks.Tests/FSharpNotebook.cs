using System.Text;
using Nursery.Tests.Support;

namespace Nursery.Notebooks.Tests;

/// <summary>
/// Runs the F# cells of a notebook as one script with <c>dotnet fsi</c>: a line directive before each cell makes a
/// compile error or a stack trace name the notebook and the cell, and a marker printed before each cell splits the
/// output back into cells. The script is written next to the notebook, so relative #r paths resolve as in an editor.
/// </summary>
public static class FSharpNotebook
{
    private const string Marker = "\u241eNURSERY-NOTEBOOK-CELL ";

    public static async Task<NotebookRun> RunAsync(Notebook notebook, TimeSpan timeout)
    {
        var cells = notebook.CodeCells;
        var script = new StringBuilder();
        foreach (var cell in cells)
        {
            if (cell.Language != "fsharp")
                throw new InvalidOperationException($"{notebook.Name}, cell {cell.Number}: kernel '{cell.Language}' is not F#");
            script.Append("System.Console.Out.Flush()\nSystem.Console.WriteLine(\"").Append(Marker).Append(cell.Number).Append("\")\n");
            script.Append("# 1 \"").Append(notebook.Name).Append(", cell ").Append(cell.Number).Append("\"\n");
            script.Append(cell.Source.TrimEnd()).Append('\n');
        }
        script.Append("System.Console.Out.Flush()\n");
        var path = System.IO.Path.Combine(notebook.Directory, $".{System.IO.Path.GetFileNameWithoutExtension(notebook.Name)}.run.fsx");
        await File.WriteAllTextAsync(path, script.ToString());
        try
        {
            var run = await ProcessRun.RunAsync(ProcessRun.Dotnet, ["fsi", "--quiet", path], notebook.Directory, timeout);
            var (exitCode, stdout, stderr) = (run.ExitCode, run.Stdout, run.TimedOut ? $"timed out after {timeout}\n{run.Stderr}" : run.Stderr);
            var outputs = Split(stdout, cells.Count);
            // A compile error names the cell through the line directive; at run time the last marker printed does.
            var reached = stdout.Split('\n').LastOrDefault(line => line.StartsWith(Marker, StringComparison.Ordinal));
            var where = reached is null ? notebook.Name : $"{notebook.Name}, cell {reached[Marker.Length..].Trim()}";
            var error = exitCode == 0 ? "" : $"{where}: dotnet fsi exited with {exitCode}:\n{stderr}";
            return new NotebookRun(outputs, error);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static List<string> Split(string stdout, int count)
    {
        var lines = Enumerable.Range(0, count).Select(_ => new List<string>()).ToList();
        var current = -1;
        foreach (var line in stdout.ReplaceLineEndings("\n").Split('\n'))
        {
            if (line.StartsWith(Marker, StringComparison.Ordinal))
                current = int.Parse(line[Marker.Length..], System.Globalization.CultureInfo.InvariantCulture) - 1;
            else if (current >= 0)
                lines[current].Add(line);
        }
        return [.. lines.Select(NotebookRun.CellText)];
    }
}
