namespace Nursery.Tests.Support;

/// <summary>Waiting on what a child writes to a file.</summary>
public static class Files
{
    /// <summary>Waits until the file at <paramref name="path"/> holds <paramref name="line"/>; a <see cref="TimeoutException"/> after <see cref="Children.Bound"/>.</summary>
    public static async Task WaitForLineAsync(string path, string line)
    {
        var deadline = DateTime.UtcNow + Children.Bound;
        while (DateTime.UtcNow < deadline)
        {
            if (File.Exists(path) && File.ReadAllLines(path).Contains(line))
                return;
            await Task.Delay(20);
        }
        throw new TimeoutException($"'{line}' was not written to {path} within {Children.Bound}");
    }
}
