using System.Runtime.InteropServices;

namespace Nursery.ChildHost;

/// <summary>The few libc calls the host needs on Linux.</summary>
internal static partial class Native
{
    public const int PrSetPdeathsig = 1;
    public const int Sigkill = 9;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int prctl(int option, nint arg2, nint arg3, nint arg4, nint arg5);

    [LibraryImport("libc")]
    public static partial int getppid();

    [LibraryImport("libc")]
    public static partial int setsid();

    public const int FDupFdCloexec = 1030;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fcntl(int fd, int command, int argument);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int dup2(int oldFd, int newFd);

    private const int FSetPipeSize = 1031;

    /// <summary>The pipe size asked for: a request or reply frame of a batch of large items then crosses in a few writes.</summary>
    public const int WantedPipeBytes = 1 << 20;

    /// <summary>
    /// Grows the pipe behind <paramref name="descriptor"/> (the kernel's default holds 64 KiB) toward
    /// <see cref="WantedPipeBytes"/>, halving the ask while the kernel refuses (above /proc/sys/fs/pipe-max-size, or over
    /// the user's pipe-memory limit). With 64 KiB, a 1 MB frame of 10 KiB items made the writer block and both sides
    /// switch about 16 times per frame. Not a pipe (a socket, a file): left as it is.
    /// </summary>
    public static void GrowPipe(int descriptor)
    {
        for (var size = WantedPipeBytes; size > 64 * 1024; size /= 2)
        {
            if (fcntl(descriptor, FSetPipeSize, size) >= 0 || Marshal.GetLastPInvokeError() != Eperm)
                return;
        }
    }

    private const int Eperm = 1;

    [LibraryImport("libc")]
    public static unsafe partial int gethostname(byte* name, nint length);

    public const int OReadWrite = 2;
    public const int OCloseOnExec = 0x80000;

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags);

    [LibraryImport("libc")]
    public static partial int close(int fd);

    public const int ProtRead = 1;
    public const int ProtWrite = 2;
    public const int MapShared = 1;
    public static readonly nint MapFailed = -1;

    [LibraryImport("libc")]
    public static partial nint mmap(nint address, nint length, int protection, int flags, int fd, long offset);

    /// <summary>
    /// The host's name up to its first dot, as <see cref="Environment.MachineName"/> gives it on Linux, through the
    /// libc the host has already loaded (<see cref="Environment.MachineName"/>'s first call costs milliseconds).
    /// </summary>
    public static unsafe string HostName()
    {
        if (!OperatingSystem.IsLinux())
            return Environment.MachineName;
        var name = stackalloc byte[256];
        if (gethostname(name, 255) != 0)
            return Environment.MachineName;
        name[255] = 0;
        var text = new ReadOnlySpan<byte>(name, 256);
        text = text[..text.IndexOf((byte)0)];
        var dot = text.IndexOf((byte)'.');
        return System.Text.Encoding.UTF8.GetString(dot < 0 ? text : text[..dot]);
    }
}
