namespace Nursery.Launch;

/// <summary>The last lines a child wrote to stderr, bounded in count and length. Thread-safe.</summary>
internal sealed class StderrTail(int capacity = 20, int maxLineLength = 1000)
{
    private readonly Queue<string> _lines = new();
    private readonly Lock _gate = new();

    public void Add(string line)
    {
        if (line.Length > maxLineLength)
            line = string.Concat(line.AsSpan(0, maxLineLength), " …");
        lock (_gate)
        {
            if (_lines.Count == capacity)
                _lines.Dequeue();
            _lines.Enqueue(line);
        }
    }

    public IReadOnlyList<string> Snapshot()
    {
        lock (_gate)
            return [.. _lines];
    }
}
