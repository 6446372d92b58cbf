using Nursery.Tests.Support;

namespace Nursery.Notebooks.Tests;

/// <summary>
/// Runs a notebook as "Run All" does in Jupyter or VS Code: a fresh .NET Interactive kernel in the notebook's folder,
/// each code cell submitted to its own kernel (the cell's metadata, else the notebook's default) one after another,
/// stopping at the first cell that fails. Then it notes what the notebook left running, quits the kernel and kills by
/// pid whatever of it is left.
/// </summary>
public static class NotebookKernelRun
{
    /// <summary>How long the kernel may take to start, and each cell to run.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan ChildrenExit = TimeSpan.FromSeconds(10);

    public static async Task<KernelRunResult> RunAsync(Notebook notebook)
    {
        var cells = new List<CellRun>();
        var error = "";
        IReadOnlyList<int> left;
        List<string> leftRunning;
        var kernel = await InteractiveKernel.StartAsync(notebook.DefaultKernel, notebook.Directory, Bound);
        try
        {
            foreach (var cell in notebook.CodeCells)
            {
                var run = await kernel.SubmitAsync(cell.Number, cell.Language, cell.Source, Bound);
                cells.Add(run);
                if (run.Error is not null)
                {
                    error = $"{notebook.Name}, cell {cell.Number} ({cell.Language}) failed:\n{run.Error}";
                    break;
                }
            }
            // A child that is being reaped may show for a moment after the scope that killed it is disposed.
            var deadline = DateTime.UtcNow + ChildrenExit;
            while ((left = kernel.Descendants()).Count > 0 && DateTime.UtcNow < deadline)
                await Task.Delay(100);
            leftRunning = [.. left.Select(pid => $"{pid}: {Processes.Describe(pid)}")];
        }
        finally
        {
            await kernel.DisposeAsync();
        }
        var kernelGone = await kernel.AllGoneWithinAsync(ChildrenExit);
        return new KernelRunResult(new NotebookRun(cells, error), leftRunning, kernel.KernelPid, kernelGone);
    }
}

/// <summary>
/// A notebook's run through the kernel: what its cells showed, the processes it left running after its last cell
/// (described, with their command lines), the kernel's pid, and whether the kernel and everything it started are gone.
/// </summary>
public sealed record KernelRunResult(NotebookRun Run, IReadOnlyList<string> LeftRunning, int KernelPid, bool KernelGone);
