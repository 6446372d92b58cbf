using System.IO.MemoryMappedFiles;
using Nursery.Protocol;

namespace Nursery.ChildHost;

/// <summary>
/// The child's view of its progress slot (<see cref="ProgressSlotLayout"/>): the parent's file mapped with open and mmap directly. Through
/// MemoryMappedFile a fresh child would load and compile another assembly, file streams, a view accessor and safe
/// handles on its way to Ready; three system calls do the same. Elsewhere than on Linux it is still mapped that way.
/// Lives as long as the process.
/// </summary>
internal sealed unsafe class ProgressMapping
{
    private readonly byte* _slot;

    /// <summary>What keeps a portable mapping alive.</summary>
    private readonly MemoryMappedViewAccessor? _view;

    private ProgressMapping(byte* slot, MemoryMappedViewAccessor? view = null)
    {
        _slot = slot;
        _view = view;
        ProgressSlotLayout.Keep(slot);
    }

    /// <summary>Maps the slot the parent made at <paramref name="path"/>, or null when it cannot (the child then answers item by item).</summary>
    public static ProgressMapping? Open(string path)
    {
        if (!OperatingSystem.IsLinux())
            return OpenPortably(path);
        var descriptor = Native.open(path, Native.OReadWrite | Native.OCloseOnExec);
        if (descriptor < 0)
            return null;
        var address = Native.mmap(0, ProgressSlotLayout.Size, Native.ProtRead | Native.ProtWrite, Native.MapShared, descriptor, 0);
        _ = Native.close(descriptor);
        return address == Native.MapFailed ? null : new ProgressMapping((byte*)address);
    }

    private static ProgressMapping? OpenPortably(string path)
    {
        try
        {
            using var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, ProgressSlotLayout.Size, MemoryMappedFileAccess.ReadWrite);
            var view = file.CreateViewAccessor(0, ProgressSlotLayout.Size, MemoryMappedFileAccess.ReadWrite);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            return new ProgressMapping(pointer + view.PointerOffset, view);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>Item <paramref name="id"/> starts now (<paramref name="timestamp"/>: the clock the caller has just read).</summary>
    public void Starting(long id, long timestamp) => ProgressSlotLayout.Store(_slot, id, timestamp);

    /// <summary>Item <paramref name="id"/>, the one last started, has finished: its reply is written, if not yet sent.</summary>
    public void Finished(long id) => ProgressSlotLayout.Finish(_slot, id);
}
