using System.Runtime.InteropServices;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;

namespace Nursery.Notebooks.Tests;

/// <summary>
/// Runs the C# cells of a notebook one after another in one Roslyn scripting session, as the .NET Interactive kernel
/// did: each cell sees the previous cells' variables, #r paths are relative to the notebook, top-level await works,
/// and a cell's last expression (without a semicolon) is shown after what it printed. Console output is captured per
/// cell and the notebook's folder is the current directory while it runs, so only one C# notebook runs at a time in
/// this process.
/// </summary>
public static class CSharpNotebook
{
    private static readonly SemaphoreSlim OneAtATime = new(1, 1);

    public static async Task<NotebookRun> RunAsync(Notebook notebook, TimeSpan timeout)
    {
        await OneAtATime.WaitAsync(timeout);
        var console = Console.Out;
        var directory = Environment.CurrentDirectory;
        Environment.CurrentDirectory = notebook.Directory; // a kernel runs in the notebook's folder
        try
        {
            var outputs = new List<string>();
            ScriptState<object>? state = null;
            foreach (var cell in notebook.CodeCells)
            {
                if (cell.Language != "csharp")
                    throw new InvalidOperationException($"{notebook.Name}, cell {cell.Number}: kernel '{cell.Language}' is not C#");
                using var captured = new StringWriter();
                Console.SetOut(captured);
                try
                {
                    var options = Options(notebook, cell);
                    state = state is null
                        ? await CSharpScript.RunAsync(cell.Source, options).WaitAsync(timeout)
                        : await state.ContinueWithAsync(cell.Source, options).WaitAsync(timeout);
                    if (state.ReturnValue is { } value)
                        captured.WriteLine(value);
                    outputs.Add(NotebookRun.CellText(captured.ToString().ReplaceLineEndings("\n").Split('\n')));
                }
                catch (CompilationErrorException error)
                {
                    outputs.Add(captured.ToString());
                    return new NotebookRun(outputs, $"{notebook.Name}, cell {cell.Number} does not compile:\n{string.Join("\n", error.Diagnostics)}");
                }
                catch (Exception exception) when (exception is not OutOfMemoryException)
                {
                    outputs.Add(captured.ToString());
                    return new NotebookRun(outputs, $"{notebook.Name}, cell {cell.Number} threw:\n{exception}");
                }
            }
            return new NotebookRun(outputs, "");
        }
        finally
        {
            Console.SetOut(console);
            Environment.CurrentDirectory = directory;
            OneAtATime.Release();
        }
    }

    private static ScriptOptions Options(Notebook notebook, CodeCell cell)
    {
        var framework = RuntimeEnvironment.GetRuntimeDirectory();
        var platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator)
            .Where(path => path.StartsWith(framework, StringComparison.Ordinal))
            .Select(path => MetadataReference.CreateFromFile(path));
        return ScriptOptions
            .Default.WithReferences(platform)
            .WithImports("System", "System.IO", "System.Linq", "System.Collections.Generic", "System.Threading", "System.Threading.Tasks")
            .WithMetadataResolver(ScriptMetadataResolver.Default.WithBaseDirectory(notebook.Directory))
            .WithSourceResolver(ScriptSourceResolver.Default.WithBaseDirectory(notebook.Directory))
            .WithFilePath(Path.Combine(notebook.Directory, $"{notebook.Name}, cell {cell.Number}"))
            .WithEmitDebugInformation(true)
            .WithFileEncoding(System.Text.Encoding.UTF8);
    }
}
