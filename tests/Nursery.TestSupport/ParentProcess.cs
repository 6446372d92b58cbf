using System.Diagnostics;

namespace Nursery.Tests.Support;

/// <summary>The test parent process (tests/Nursery.TestParent), for the tests that SIGKILL a parent.</summary>
public static class ParentProcess
{
    /// <summary>
    /// Starts tests/Nursery.TestParent (a parent process the test can SIGKILL) with these arguments, its stdout
    /// redirected for the test to read and its stderr drained.
    /// </summary>
    public static Process Start(params string[] arguments)
    {
        var start = new ProcessStartInfo(ChildHostLocation.Default.DotnetExecutable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Nursery.TestParent.dll"));
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the test parent");
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        return process;
    }
}
