using System.IO.MemoryMappedFiles;

namespace Nursery.Protocol;

/// <summary>
/// A few bytes of memory shared by the parent and one child host: the child stores the id of the item it is about to
/// run, and when it started, before running it, and the id again once it has finished it. That lets the child batch its replies (one write for many fast
/// items) and still lets the parent tell, when the child dies or hangs, which item was running: the reply frames
/// alone would blame the oldest unanswered item, which may have finished with its reply still in the child's buffer,
/// or may not have started at all.
/// The bytes are <see cref="ProgressSlotLayout"/>'s. The parent makes the file (in
/// /dev/shm when it can), the child maps it at Init (with mmap directly, see the child host's ProgressMapping), and the
/// parent unlinks it once the child is ready. The file is made with mode 0600.
/// </summary>
internal sealed unsafe class ProgressSlot : IDisposable
{
    /// <summary>The file's length in bytes.</summary>
    public const int Size = ProgressSlotLayout.Size;
    private static int _sequence;
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _pointer;
    private string? _path;

    private ProgressSlot(string path, MemoryMappedFile file)
    {
        _path = path;
        _file = file;
        _view = file.CreateViewAccessor(0, Size, MemoryMappedFileAccess.ReadWrite);
        byte* pointer = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _pointer = pointer + _view.PointerOffset;
    }

    /// <summary>The file's path, for the Init message; null once unlinked.</summary>
    public string? Path => Volatile.Read(ref _path);

    /// <summary>Makes a new slot for a child (parent side), or null when no file can be made (the child then answers item by item).</summary>
    public static ProgressSlot? Create()
    {
        var directory = Directory.Exists("/dev/shm") ? "/dev/shm" : System.IO.Path.GetTempPath();
        var path = System.IO.Path.Combine(directory, $"nursery-{Environment.ProcessId}-{Interlocked.Increment(ref _sequence)}.progress");
        try
        {
            // Readable and writable by this user only, whatever the umask: it is in a shared directory, and its
            // contents steer which item the parent blames.
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.ReadWrite, Share = FileShare.ReadWrite };
            if (!OperatingSystem.IsWindows())
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            var stream = new FileStream(path, options);
            stream.SetLength(Size);
            return new ProgressSlot(path, MemoryMappedFile.CreateFromFile(stream, null, Size, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false));
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            TryDelete(path);
            return null;
        }
    }

    /// <summary>Parent: what the child last started, when, and what it last finished.</summary>
    public ChildProgress Read() => ProgressSlotLayout.Load(_pointer);

    /// <summary>Removes the file (both sides keep their mapping).</summary>
    public void Unlink()
    {
        var path = Interlocked.Exchange(ref _path, null);
        if (path is not null)
            TryDelete(path);
    }

    public void Dispose()
    {
        Unlink();
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException) { }
    }
}
