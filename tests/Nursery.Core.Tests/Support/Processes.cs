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

    /// <summary>Sends a signal to a pid the test started and may already have ended (clean-up); false when it could not.</summary>
    public static bool TrySignal(int pid, int signal) => pid > 1 && pid != Environment.ProcessId && kill(pid, signal) == 0;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);

    /// <summary>The pids whose parent is <paramref name="pid"/> (its children now), from /proc.</summary>
    public static List<int> ChildrenOf(int pid)
    {
        var children = new List<int>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var candidate))
                continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(entry, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) == pid)
                    children.Add(candidate);
            }
            catch (IOException) { }
        }
        return children;
    }

    /// <summary>
    /// The capacity in bytes of the pipe behind descriptor <paramref name="fd"/> of process <paramref name="pid"/>
    /// (F_GETPIPE_SZ on a descriptor opened through /proc; nothing is read or written), or -1 when it is not a pipe.
    /// </summary>
    public static int PipeCapacity(int pid, int fd)
    {
        var link = new FileInfo($"/proc/{pid}/fd/{fd}").LinkTarget ?? "";
        if (!link.StartsWith("pipe:", StringComparison.Ordinal))
            return -1;
        // Opened for writing without blocking: a pipe with a reader opens at once, and the test never writes to it.
        var handle = open($"/proc/{pid}/fd/{fd}", OWronly | ONonblock);
        Assert.True(handle >= 0, $"cannot open {link} of process {pid}: errno {Marshal.GetLastPInvokeError()}");
        try
        {
            return fcntl(handle, FGetPipeSize, 0);
        }
        finally
        {
            _ = close(handle);
        }
    }

    /// <summary>The descriptors of <paramref name="pid"/> that are pipes, with their pipe's inode (pipe:[N]).</summary>
    public static IReadOnlyDictionary<int, string> Pipes(int pid) =>
        new DirectoryInfo($"/proc/{pid}/fd")
            .EnumerateFileSystemInfos()
            .Select(entry => (Fd: int.Parse(entry.Name, System.Globalization.CultureInfo.InvariantCulture), Link: entry.LinkTarget ?? ""))
            .Where(entry => entry.Link.StartsWith("pipe:", StringComparison.Ordinal))
            .ToDictionary(entry => entry.Fd, entry => entry.Link);

    private const int OWronly = 1;
    private const int ONonblock = 0x800;
    private const int FGetPipeSize = 1032;

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fcntl(int fd, int command, int argument);

    [LibraryImport("libc")]
    private static partial int close(int fd);
}
