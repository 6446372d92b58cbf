namespace Nursery.Quickstart;

/// <summary>
/// The bodies the quickstart runs in child processes. They are static methods in a compiled assembly: the parent
/// sends the child their assembly path, type and method, and the child loads and calls them.
/// </summary>
internal static class Work
{
    /// <summary>Counts the words of a line and finds its longest word. A line with no words is bad input: it throws.</summary>
    public static WordCount CountWords(string line)
    {
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (words.Length == 0)
            throw new InvalidDataException($"the line \"{line}\" has no words to count");
        return new WordCount(words.Length, words.MaxBy(word => word.Length)!);
    }

    /// <summary>Works for <paramref name="milliseconds"/>, then says how long it worked: long enough to be killed while busy.</summary>
    public static async Task<int> BusyAsync(int milliseconds)
    {
        await Task.Delay(milliseconds).ConfigureAwait(false);
        return milliseconds;
    }

    /// <summary>Never returns, like a deadlock or a network call that never answers. Only killing the child stops it.</summary>
    public static async Task<int> HangAsync(int item)
    {
        await Task.Delay(Timeout.Infinite).ConfigureAwait(false);
        return item;
    }

    /// <summary>Allocates and touches <paramref name="mebibytes"/> MiB, then says how many it held.</summary>
    public static int Allocate(int mebibytes)
    {
        var held = new List<byte[]>();
        for (var i = 0; i < mebibytes; i++)
        {
            var block = new byte[1 << 20];
            for (var page = 0; page < block.Length; page += 4096)
                block[page] = 1;
            held.Add(block);
        }
        return held.Count;
    }
}

/// <summary>What <see cref="Work.CountWords"/> found in a line; it travels back from the child as JSON.</summary>
internal sealed record WordCount(int Words, string Longest)
{
    public override string ToString() => $"{Words} words, longest \"{Longest}\"";
}
