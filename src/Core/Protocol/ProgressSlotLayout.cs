namespace Nursery.Protocol;

/// <summary>
/// The bytes of a progress slot, which both sides map (<c>ProgressSlot</c> in the parent, <c>ProgressMapping</c> in the
/// child host): the id of the item the child last started at offset 0 and when it started at offset 8, each a single
/// aligned 64-bit word, so stores and loads need no system call and no lock.
/// </summary>
internal static unsafe class ProgressSlotLayout
{
    /// <summary>The file's length in bytes.</summary>
    public const int Size = 64;

    /// <summary>
    /// Child: item <paramref name="id"/> starts now, stored into the slot mapped at <paramref name="slot"/>;
    /// <paramref name="timestamp"/> is a <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/> the caller has just
    /// read (the host reads the clock once per item). The time first, then the id, which <see cref="Load"/> reads on
    /// both sides of it.
    /// </summary>
    public static void Store(byte* slot, long id, long timestamp)
    {
        Volatile.Write(ref *(long*)(slot + 8), timestamp);
        Volatile.Write(ref *(long*)slot, id);
    }

    /// <summary>Parent: the item the child last started and when (Stopwatch ticks, comparable across processes on Linux), or (0, 0) if none.</summary>
    public static (long Id, long Since) Load(byte* slot)
    {
        while (true)
        {
            var id = Volatile.Read(ref *(long*)slot);
            var since = Volatile.Read(ref *(long*)(slot + 8));
            if (Volatile.Read(ref *(long*)slot) == id)
                return (id, since);
        }
    }
}
