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

    public const int FDupFdCloexec = 1030;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fcntl(int fd, int command, int argument);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int dup2(int oldFd, int newFd);
}
