namespace Nursery.TestBodies;

/// <summary>Bodies that take the item's cancellation token: some honour it, one ignores it.</summary>
public static class StoppableBodies
{
    /// <summary>Doubles a non-negative item; on a negative one, waits until its token is cancelled, then throws OperationCanceledException.</summary>
    public static int DoubleOrWaitForStop(int x, CancellationToken token)
    {
        if (x < 0)
            token.WaitHandle.WaitOne();
        token.ThrowIfCancellationRequested();
        return x * 2;
    }

    /// <summary>As <see cref="DoubleOrWaitForStop"/>, awaiting: a negative item waits on <c>Task.Delay</c> with the token.</summary>
    public static async Task<int> DoubleOrWaitForStopAsync(int x, CancellationToken token)
    {
        if (x < 0)
            await Task.Delay(Timeout.Infinite, token);
        return x * 2;
    }

    /// <summary>Doubles a non-negative item; on a negative one, sleeps forever whatever its token says.</summary>
    public static int DoubleOrIgnoreStop(int x, CancellationToken token)
    {
        if (x < 0)
            Thread.Sleep(Timeout.Infinite);
        return x * 2;
    }

    /// <summary>Creates the file at <paramref name="path"/> (the test's sign that the item is running), then waits until its token is cancelled.</summary>
    public static string MarkThenWaitForStop(string path, CancellationToken token)
    {
        File.WriteAllText(path, "started");
        token.WaitHandle.WaitOne();
        token.ThrowIfCancellationRequested();
        return path;
    }

    /// <summary>Returns the item, or waits for its token on a path that names no file yet after creating it (see <see cref="MarkThenWaitForStop"/>).</summary>
    public static string EchoOrMarkThenWaitForStop(string item, CancellationToken token) =>
        item.StartsWith('/') ? MarkThenWaitForStop(item, token) : item;
}
