using System.Diagnostics;
using System.Text;

namespace Nursery.Tests.Support;

/// <summary>
/// Runs a process to its end with stdout and stderr captured, bounded: a process that outlives its time is killed with
/// its whole tree, and what it wrote so far is returned.
/// </summary>
public static class ProcessRun
{
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(10);

    /// <summary>The dotnet executable that runs these tests (DOTNET_HOST_PATH, set by the dotnet CLI), else dotnet on PATH.</summary>
    public static string Dotnet =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>
    /// Runs <paramref name="file"/> with <paramref name="arguments"/> in <paramref name="directory"/> for at most
    /// <paramref name="timeout"/>. <paramref name="configure"/> may change the start (its environment);
    /// <paramref name="onLine"/>, when given, is called with the pid and each stdout line as it is read. The process
    /// reads this one's stdin, unless <paramref name="closeStdin"/> gives it an empty one (for a program that would
    /// wait for input, such as ssh).
    /// </summary>
    public static async Task<ProcessOutcome> RunAsync(
        string file,
        IEnumerable<string> arguments,
        string directory,
        TimeSpan timeout,
        Action<ProcessStartInfo>? configure = null,
        Action<int, string>? onLine = null,
        bool closeStdin = false
    )
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = directory,
            RedirectStandardInput = closeStdin,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        configure?.Invoke(start);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        if (closeStdin)
            process.StandardInput.Close();
        var stdout = onLine is null ? process.StandardOutput.ReadToEndAsync() : ReadLinesAsync(process, onLine);
        var stderr = process.StandardError.ReadToEndAsync();
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            timedOut = true;
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().WaitAsync(Drain).ConfigureAwait(false);
        }
        var output = await stdout.WaitAsync(Drain).ConfigureAwait(false);
        var errors = await stderr.WaitAsync(Drain).ConfigureAwait(false);
        return new ProcessOutcome(timedOut ? -1 : process.ExitCode, output, errors, timedOut);
    }

    private static async Task<string> ReadLinesAsync(Process process, Action<int, string> onLine)
    {
        var text = new StringBuilder();
        while (await process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            text.AppendLine(line);
            onLine(process.Id, line);
        }
        return text.ToString();
    }
}
