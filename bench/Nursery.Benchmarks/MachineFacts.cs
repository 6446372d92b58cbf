using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Nursery.Benchmarks;

/// <summary>What the figures were measured on, read from /proc and from the tools themselves.</summary>
internal sealed record MachineFacts(int Cores, string Cpu, string Memory, string Kernel, string Os, string DotnetVersion, string Runtime, string Configuration, string Commit)
{
    public static async Task<MachineFacts> ReadAsync(ChildPids pids)
    {
        var cpu = ReadLines("/proc/cpuinfo").FirstOrDefault(line => line.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        var memory = ReadLines("/proc/meminfo").FirstOrDefault(line => line.StartsWith("MemTotal", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        var kernel = ReadLines("/proc/sys/kernel/osrelease").FirstOrDefault() ?? RuntimeInformation.OSDescription;
        var dotnetVersion = await CaptureAsync(ChildHostLocation.Default.DotnetExecutable, ["--version"], pids);
        var commit = await CaptureAsync("git", ["rev-parse", "--short=12", "HEAD"], pids);
        var status = await CaptureAsync("git", ["status", "--porcelain", "--untracked-files=no"], pids);
        if (status.Length > 0 && !status.StartsWith("unavailable", StringComparison.Ordinal))
            commit += " plus uncommitted changes";
#if DEBUG
        const string configuration = "Debug (figures from a Debug build are not comparable; use -c Release)";
#else
        const string configuration = "Release";
#endif
        return new MachineFacts(Environment.ProcessorCount, cpu, memory, kernel, RuntimeInformation.OSDescription, dotnetVersion, RuntimeInformation.FrameworkDescription, configuration, commit);
    }

    /// <summary>The 1, 5 and 15 minute load averages and the running/total task counts, from /proc/loadavg.</summary>
    public static string LoadAverage() => ReadLines("/proc/loadavg").FirstOrDefault() ?? "unknown";

    private static string[] ReadLines(string path)
    {
        try
        {
            return File.ReadAllLines(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static async Task<string> CaptureAsync(string executable, string[] arguments, ChildPids pids)
    {
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        try
        {
            using var process = Process.Start(info);
            if (process is null)
                return "unavailable";
            pids.Track(process.Id);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
                var errors = process.StandardError.ReadToEndAsync(timeout.Token);
                await process.WaitForExitAsync(timeout.Token);
                var text = (await output).Trim();
                _ = await errors;
                return process.ExitCode == 0 ? text : string.Create(CultureInfo.InvariantCulture, $"unavailable (exit {process.ExitCode})");
            }
            catch (OperationCanceledException)
            {
                process.Kill();
                return "unavailable (timed out)";
            }
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            return $"unavailable ({exception.Message})";
        }
    }
}
