namespace Nursery.Protocol;

/// <summary>
/// The bytes of a progress slot, which both sides map (<c>ProgressSlot</c> in the parent, <c>ProgressMapping</c> in the
/// child host), each field a single aligned 64-bit word, so stores and loads need no system call and no lock: the id
/// of the item the child last started at offset 0, when it started at offset 8, the id of the item it last finished
/// at offset 16, and at offset 24 a 1 the child stores once it has mapped the slot (a child that could not map it, or
/// a host that ignores it, leaves all four at 0 and answers item by item).
/// </summary>
internal static unsafe class ProgressSlotLayout
{
    /// <summary>The file's length in bytes.</summary>
    public const int Size = 64;

    /// <summary>Child: the slot mapped at <paramref name="slot"/> is kept from now on.</summary>
    public static void Keep(byte* slot) => Volatile.Write(ref *(long*)(slot + 24), 1);

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

    /// <summary>Child: item <paramref name="id"/>, the one last started, has finished (its reply is written, maybe not yet sent).</summary>
    public static void Finish(byte* slot, long id) => Volatile.Write(ref *(long*)(slot + 16), id);

    /// <summary>Parent: what the slot mapped at <paramref name="slot"/> says, read consistently (the started id on both sides of the rest).</summary>
    public static ChildProgress Load(byte* slot)
    {
        var kept = Volatile.Read(ref *(long*)(slot + 24)) == 1;
        while (true)
        {
            var id = Volatile.Read(ref *(long*)slot);
            var since = Volatile.Read(ref *(long*)(slot + 8));
            var finished = Volatile.Read(ref *(long*)(slot + 16));
            if (Volatile.Read(ref *(long*)slot) == id)
                return new ChildProgress(kept, id, since, finished);
        }
    }
}
