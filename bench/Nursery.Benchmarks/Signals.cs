using System.Runtime.InteropServices;

namespace Nursery.Benchmarks;

/// <summary>Sends SIGKILL to one pid this harness started, and nothing else.</summary>
internal static partial class Signals
{
    private const int SigKill = 9;

    public static void Kill(int pid)
    {
        if (pid <= 1 || pid == Environment.ProcessId)
            throw new BenchmarkException($"refusing to signal pid {pid}");
        if (kill(pid, SigKill) != 0)
            throw new BenchmarkException($"kill({pid}, SIGKILL) failed with errno {Marshal.GetLastPInvokeError()}");
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
