using Nursery.Protocol;

namespace Nursery.Tests.Protocol;

/// <summary>The progress slot's file, shared with one child host through /dev/shm or the temp folder.</summary>
public sealed class ProgressSlotTests
{
    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void The_progress_slot_file_is_readable_and_writable_by_its_owner_only_whatever_the_umask()
    {
        using var slot = ProgressSlot.Create();
        Assert.NotNull(slot);
        Assert.NotNull(slot.Path);

        var mode = File.GetUnixFileMode(slot.Path);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
        // The umask of this process lets others read new files, so the mode above was chosen, not inherited.
        Assert.NotEqual(0, ~Umask() & 0b000_100_100);
    }

    private static int Umask()
    {
        var line = File.ReadLines("/proc/self/status").First(text => text.StartsWith("Umask:", StringComparison.Ordinal));
        return Convert.ToInt32(line["Umask:".Length..].Trim(), 8);
    }
}
