using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Nursery.Tests.Support;

namespace Nursery.Notebooks.Tests;

/// <summary>An .ipynb file (nbformat 4, as Polyglot Notebooks writes it): its code cells and their outputs.</summary>
public sealed class Notebook
{
    private readonly JsonObject _document;

    private Notebook(string path, JsonObject document)
    {
        Path = path;
        _document = document;
    }

    public string Path { get; }

    public string Name => System.IO.Path.GetFileName(Path);

    public string Directory => System.IO.Path.GetDirectoryName(Path)!;

    /// <summary>The code cells in order, numbered from 1 as a reader counts them (markdown cells not counted).</summary>
    public IReadOnlyList<CodeCell> CodeCells =>
        [
            .. Cells
                .Where(cell => (string?)cell["cell_type"] == "code")
                .Select((cell, index) => new CodeCell(index + 1, LanguageOf(cell), Text(cell["source"]))),
        ];

    /// <summary>The text each code cell's stored outputs hold (what the last recorded run printed).</summary>
    public IReadOnlyList<string> RecordedOutputs =>
        [
            .. Cells
                .Where(cell => (string?)cell["cell_type"] == "code")
                .Select(cell => string.Concat((cell["outputs"]?.AsArray() ?? []).Select(output => Text(output?["text"])))),
        ];

    private IEnumerable<JsonObject> Cells => _document["cells"]!.AsArray().Select(cell => cell!.AsObject());

    public static Notebook Load(string path) => new(path, JsonNode.Parse(File.ReadAllText(path))!.AsObject());

    /// <summary>
    /// Replaces the outputs of each code cell with what it printed, as Jupyter records a run; paths inside this
    /// checkout (stack traces name source files) are written relative to the repository, not to this machine.
    /// </summary>
    public void WriteOutputs(IReadOnlyList<string> outputs)
    {
        var root = Repository.RootAbove(Directory) + "/";
        var code = Cells.Where(cell => (string?)cell["cell_type"] == "code").ToList();
        for (var i = 0; i < code.Count; i++)
        {
            var text = (i < outputs.Count ? outputs[i] : "").Replace(root, "", StringComparison.Ordinal);
            code[i]["execution_count"] = i + 1;
            code[i]["outputs"] = text.Length == 0
                ? new JsonArray()
                : new JsonArray(new JsonObject { ["name"] = "stdout", ["output_type"] = "stream", ["text"] = Lines(text) });
        }
        var options = new JsonSerializerOptions { WriteIndented = true, IndentSize = 1, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        File.WriteAllText(Path, _document.ToJsonString(options) + "\n", new UTF8Encoding(false));
    }

    private string LanguageOf(JsonObject cell)
    {
        var language =
            (string?)cell["metadata"]?["polyglot_notebook"]?["kernelName"]
            ?? (string?)cell["metadata"]?["dotnet_interactive"]?["language"]
            ?? (string?)_document["metadata"]?["polyglot_notebook"]?["kernelInfo"]?["defaultKernelName"]
            ?? "";
        return language;
    }

    private static string Text(JsonNode? source) =>
        source switch
        {
            JsonArray lines => string.Concat(lines.Select(line => (string?)line)),
            JsonValue value => (string?)value ?? "",
            _ => "",
        };

    private static JsonArray Lines(string text)
    {
        var lines = new JsonArray();
        var start = 0;
        while (start < text.Length)
        {
            var end = text.IndexOf('\n', start);
            var line = end < 0 ? text[start..] : text[start..(end + 1)];
            lines.Add(line);
            start += line.Length;
        }
        return lines;
    }
}
