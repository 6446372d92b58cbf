namespace Nursery.Protocol;

/// <summary>
/// The decoded entries of one Request frame, in order: a growable array rather than a <c>List&lt;RequestEntry&gt;</c>,
/// whose methods over this library's struct are not in any precompiled image and cost every fresh child host about
/// ten just-in-time compilations on the way to its first item. Reused frame after frame (see <see cref="Clear"/>).
/// </summary>
internal sealed class RequestEntries
{
    private RequestEntry[] _entries = new RequestEntry[16];

    /// <summary>How many entries there are.</summary>
    public int Count { get; private set; }

    /// <summary>Entry <paramref name="index"/>, 0 ≤ index &lt; <see cref="Count"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is not below <see cref="Count"/>.</exception>
    public ref readonly RequestEntry this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
            return ref _entries[index];
        }
    }

    public void Add(in RequestEntry entry)
    {
        if (Count == _entries.Length)
        {
            var grown = new RequestEntry[_entries.Length * 2];
            Array.Copy(_entries, grown, Count);
            _entries = grown;
        }
        _entries[Count++] = entry;
    }

    /// <summary>Forgets every entry (and the buffers their payloads point into).</summary>
    public void Clear()
    {
        Array.Clear(_entries, 0, Count);
        Count = 0;
    }

    /// <summary>A copy of the entries, for tests and tools.</summary>
    public RequestEntry[] ToArray()
    {
        var copy = new RequestEntry[Count];
        Array.Copy(_entries, copy, Count);
        return copy;
    }
}
