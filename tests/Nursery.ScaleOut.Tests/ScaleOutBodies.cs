using System.Runtime.InteropServices;

namespace Nursery.ScaleOut.Tests;

/// <summary>Bodies only these tests need; the child loads them from this assembly like any compiled body.</summary>
public static class ScaleOutBodies
{
    /// <summary>
    /// Allocates and touches <paramref name="mebibytes"/> MiB of native memory. Under Slurm's <c>--mem</c> the .NET GC
    /// sees the cgroup from its first instruction and throws OutOfMemoryException for managed arrays before the limit,
    /// so only native memory (a native library's, say) reaches the kernel's OOM killer.
    /// </summary>
    public static int AllocateNative(int mebibytes)
    {
        for (var i = 0; i < mebibytes; i++)
        {
            var block = Marshal.AllocHGlobal(1 << 20);
            for (var page = 0; page < 1 << 20; page += 4096)
                Marshal.WriteByte(block, page, 1);
        }
        return mebibytes;
    }

    /// <summary>The value of the environment variable <paramref name="name"/> in the child, or "(unset)".</summary>
    public static string Variable(string name) => Environment.GetEnvironmentVariable(name) ?? "(unset)";
}
