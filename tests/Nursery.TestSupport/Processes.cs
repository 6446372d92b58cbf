using System.Globalization;
using System.Runtime.InteropServices;

namespace Nursery.Tests.Support;

/// <summary>What the OS says about processes, read from /proc, and signals sent only to pids the test started.</summary>
public static partial class Processes
{
    public const int SigKill = 9;
    public const int SigStop = 19;
    public const int SigCont = 18;

    /// <summary>True while the pid exists and is not a zombie.</summary>
    public static bool IsAlive(int pid) => Stat(pid) is [var state, ..] && state is not "Z" and not "X";

    /// <summary>
    /// The fields of /proc/<paramref name="pid"/>/stat after the command's parentheses (index 0 is field 3, the state;
    /// 1 the parent; 2 the process group; 19 the start time), or null when the pid is gone or not readable.
    /// </summary>
    public static string[]? Stat(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The parent pid, or null when the process is gone.</summary>
    public static int? ParentOf(int pid) =>
        Stat(pid) is [_, var parent, ..] && int.TryParse(parent, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;

    /// <summary>Every pid in /proc now.</summary>
    public static IEnumerable<int> AllPids() =>
        Directory
            .EnumerateDirectories("/proc")
            .Select(Path.GetFileName)
            .Where(name => name is { Length: > 0 } && name.All(char.IsAsciiDigit))
            .Select(name => int.Parse(name!, CultureInfo.InvariantCulture));

    /// <summary>
    /// The live processes (not zombies), other than this one, whose environment holds <c>name=value</c>: a mark a test
    /// gives its children, which they pass on, so it finds grandchildren and reparented processes, never another test's.
    /// </summary>
    public static IReadOnlyList<int> Marked(string name, string value)
    {
        var needle = System.Text.Encoding.UTF8.GetBytes($"{name}={value}\0");
        var found = new List<int>();
        foreach (var pid in AllPids())
        {
            if (pid == Environment.ProcessId)
                continue;
            try
            {
                if (File.ReadAllBytes($"/proc/{pid}/environ").AsSpan().IndexOf(needle) >= 0 && IsAlive(pid))
                    found.Add(pid);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // Gone meanwhile, or another user's process: not one this test started.
            }
        }
        return found;
    }

    /// <summary>True when the pid is gone entirely (reaped, not even a zombie).</summary>
    public static bool IsGone(int pid) => !Directory.Exists($"/proc/{pid}");

    /// <summary>Polls until the pid is not alive (gone or a zombie), for at most <paramref name="timeout"/>.</summary>
    public static async Task<bool> GoneWithinAsync(int pid, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (!IsAlive(pid))
                return true;
            await Task.Delay(10).ConfigureAwait(false);
        }
        return !IsAlive(pid);
    }

    /// <summary>Polls until none of the pids is alive, for at most <paramref name="timeout"/> in all.</summary>
    public static async Task<bool> AllGoneWithinAsync(IEnumerable<int> pids, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        foreach (var pid in pids)
        {
            if (!await GoneWithinAsync(pid, deadline - DateTime.UtcNow).ConfigureAwait(false))
                return false;
        }
        return true;
    }

    public static async Task AssertGoneAsync(int pid, TimeSpan timeout)
    {
        Assert.True(pid > 0, "the test never learned the child's pid");
        Assert.True(await GoneWithinAsync(pid, timeout).ConfigureAwait(false), $"process {pid} is still alive {timeout.TotalSeconds} s later: {Describe(pid)}");
    }

    /// <summary>
    /// Checks that the sets hold at least one pid (a test that started children must have learned them) and that each
    /// pid is gone within five seconds.
    /// </summary>
    public static async Task AssertAllGoneAsync(params IEnumerable<int>[] pidSets)
    {
        var pids = pidSets.SelectMany(set => set).ToArray();
        Assert.NotEmpty(pids);
        foreach (var pid in pids)
            await AssertGoneAsync(pid, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
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
    public static List<int> ChildrenOf(int pid) => [.. AllPids().Where(candidate => ParentOf(candidate) == pid)];

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
            .Select(entry => (Fd: int.Parse(entry.Name, CultureInfo.InvariantCulture), Link: entry.LinkTarget ?? ""))
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
