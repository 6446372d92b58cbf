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

    /// <summary>
    /// The text each code cell's stored outputs hold (what the last recorded run showed): streams' text, and the
    /// text/plain (else text/html) form of displayed values, results and errors.
    /// </summary>
    public IReadOnlyList<string> RecordedOutputs =>
        [
            .. Cells
                .Where(cell => (string?)cell["cell_type"] == "code")
                .Select(cell => string.Concat((cell["outputs"]?.AsArray() ?? []).Select(output => RecordedText(output!.AsObject())))),
        ];

    /// <summary>The kernel a cell without its own kernel name runs in (the notebook's metadata, else C#).</summary>
    public string DefaultKernel => (string?)_document["metadata"]?["polyglot_notebook"]?["kernelInfo"]?["defaultKernelName"] ?? "csharp";

    private IEnumerable<JsonObject> Cells => _document["cells"]!.AsArray().Select(cell => cell!.AsObject());

    public static Notebook Load(string path) => new(path, JsonNode.Parse(File.ReadAllText(path))!.AsObject());

    /// <summary>
    /// Replaces the outputs of each code cell with what the kernel showed, in Jupyter's forms (stream, display_data,
    /// execute_result, error), as a notebook front end records a run; paths inside this checkout are written relative
    /// to the repository, not to this machine.
    /// </summary>
    public void WriteOutputs(IReadOnlyList<CellRun> runs)
    {
        var root = Repository.RootAbove(Directory) + "/";
        string Relative(string text) => text.Replace(root, "", StringComparison.Ordinal);
        var code = Cells.Where(cell => (string?)cell["cell_type"] == "code").ToList();
        for (var i = 0; i < code.Count; i++)
        {
            var outputs = new JsonArray();
            foreach (var output in Coalesced(i < runs.Count ? runs[i].Outputs : []))
            {
                JsonObject Data() => new(output.Values.Select(value => KeyValuePair.Create(value.Key, (JsonNode?)Lines(Relative(value.Value)))));
                outputs.Add(
                    output.Kind switch
                    {
                        OutputKind.Stdout or OutputKind.Stderr => new JsonObject
                        {
                            ["name"] = output.Kind == OutputKind.Stdout ? "stdout" : "stderr",
                            ["output_type"] = "stream",
                            ["text"] = Lines(Relative(output.Text)),
                        },
                        OutputKind.Display => new JsonObject { ["data"] = Data(), ["metadata"] = new JsonObject(), ["output_type"] = "display_data" },
                        OutputKind.Result => new JsonObject
                        {
                            ["data"] = Data(),
                            ["execution_count"] = i + 1,
                            ["metadata"] = new JsonObject(),
                            ["output_type"] = "execute_result",
                        },
                        _ => new JsonObject
                        {
                            ["ename"] = "Error",
                            ["evalue"] = Relative(output.Text),
                            ["output_type"] = "error",
                            ["traceback"] = new JsonArray(),
                        },
                    }
                );
            }
            code[i]["execution_count"] = i < runs.Count ? i + 1 : null;
            code[i]["outputs"] = outputs;
        }
        var options = new JsonSerializerOptions { WriteIndented = true, IndentSize = 1, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        File.WriteAllText(Path, _document.ToJsonString(options) + "\n", new UTF8Encoding(false));
    }

    // The kernel sends printed text in pieces as it is flushed; consecutive pieces of one stream are one output.
    private static IEnumerable<CellOutput> Coalesced(IEnumerable<CellOutput> outputs)
    {
        CellOutput? pending = null;
        foreach (var output in outputs)
        {
            if (pending is not null && output.Kind == pending.Kind && output.Kind is OutputKind.Stdout or OutputKind.Stderr)
            {
                pending = pending with { Values = new Dictionary<string, string> { ["text/plain"] = pending.Text + output.Text } };
                continue;
            }
            if (pending is not null)
                yield return pending;
            pending = output;
        }
        if (pending is not null)
            yield return pending;
    }

    private static string RecordedText(JsonObject output) =>
        (string?)output["output_type"] switch
        {
            "stream" => Text(output["text"]),
            "error" => (string?)output["evalue"] ?? "",
            _ => new CellOutput(OutputKind.Display, (output["data"]?.AsObject() ?? []).ToDictionary(value => value.Key, value => Text(value.Value))).Text,
        };

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
