using System.Runtime.InteropServices;

namespace Nursery.Tests.Support;

/// <summary>What the OS says about processes, read from /proc, and signals sent only to pids the test started.</summary>
public static partial class Processes
{
    public const int SigKill = 9;
    public const int SigStop = 19;
    public const int SigCont = 18;

    /// <summary>True while the pid exists and is not a zombie.</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..][0];
            return state != 'Z' && state != 'X';
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>True when the pid is gone entirely (reaped, not even a zombie).</summary>
    public static bool IsGone(int pid) => !Directory.Exists($"/proc/{pid}");

    public static async Task<bool> GoneWithinAsync(int pid, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (!IsAlive(pid))
                return true;
            await Task.Delay(10);
        }
        return !IsAlive(pid);
    }

    public static async Task AssertGoneAsync(int pid, TimeSpan timeout)
    {
        Assert.True(pid > 0, "the test never learned the child's pid");
        Assert.True(await GoneWithinAsync(pid, timeout), $"process {pid} is still alive {timeout.TotalSeconds} s later: {Describe(pid)}");
    }

    public static string Describe(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return "(gone)";
        }
    }

    /// <summary>Sends a signal to one pid the test itself started.</summary>
    public static void Signal(int pid, int signal)
    {
        Assert.True(pid > 1, "refusing to signal an unknown pid");
        Assert.Equal(0, kill(pid, signal));
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
