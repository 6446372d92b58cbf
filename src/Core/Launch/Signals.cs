using System.Runtime.InteropServices;

namespace Nursery.Launch;

/// <summary>Sending signals to processes this library started (by pid or process group), on Linux.</summary>
internal static partial class Signals
{
    public const int SigKill = 9;
    public const int SigTerm = 15;

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int kill(int pid, int signal);
}
