namespace Nursery.TestBodies;

/// <summary>Bodies for the warm-spare tests: a slow initializer, and a body that says whether it ran after it.</summary>
public static class SpareBodies
{
    private static volatile bool _initialized;

    /// <summary>Takes <paramref name="milliseconds"/> before the child is ready.</summary>
    public static void SlowInitializer(int milliseconds)
    {
        Thread.Sleep(milliseconds);
        _initialized = true;
    }

    private static string _record = "";

    /// <summary>
    /// <see cref="SlowInitializer"/> with a file that each item that sleeps writes the pid to as it starts: state is
    /// the milliseconds, a space and the file's path.
    /// </summary>
    public static void SlowInitializerRecordingTo(string state)
    {
        var space = state.IndexOf(' ', StringComparison.Ordinal);
        _record = state[(space + 1)..];
        SlowInitializer(int.Parse(state[..space], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>-1 if the initializer has not run in this child; else sleeps <paramref name="milliseconds"/> and returns the pid.</summary>
    public static int PidAfterSleep(int milliseconds)
    {
        if (!_initialized)
            return -1;
        if (milliseconds > 0)
        {
            if (_record.Length > 0)
                File.AppendAllText(_record, $"{Environment.ProcessId}\n");
            Thread.Sleep(milliseconds);
        }
        return Environment.ProcessId;
    }
}

/// <summary>
/// Bodies that write down every item they start, for the tests that count how often each item ran when a child dies
/// holding items: one line per start, in a file named by the initializer's state.
/// </summary>
public static class RecordingBodies
{
    private static string _path = "";

    /// <summary>The file every item's start is appended to.</summary>
    public static void RecordTo(string path) => _path = path;

    /// <summary>Writes the item down, then: a negative item sleeps a minute (the one a test kills the child in), any other returns the pid.</summary>
    public static int RecordThenPid(int x)
    {
        File.AppendAllText(_path, $"{x}\n");
        if (x < 0)
            Thread.Sleep(60_000);
        return Environment.ProcessId;
    }
}

/// <summary>A body whose class's static constructor writes a line to a file and then throws: it must run only when an item does.</summary>
public static class ThrowingStaticConstructorBody
{
    /// <summary>The file the static constructor appends a line to, named by the environment.</summary>
    public const string MarkerVariable = "NURSERY_TEST_CCTOR_MARKER";

    private static readonly int Offset = Initialize();

    private static int Initialize()
    {
        File.AppendAllText(Environment.GetEnvironmentVariable(MarkerVariable) ?? "/dev/null", "ran\n");
        throw new InvalidOperationException("the static constructor failed");
    }

    public static int AddOffset(int x) => x + Offset;
}

/// <summary>An async body: its compiled state machine is what a prepared child has ready.</summary>
public static class AsyncPreparedBody
{
    /// <summary>A negative item waits a minute (the one a test kills the child in); any other returns its successor.</summary>
    public static async Task<long> NextAfterYield(int x)
    {
        await Task.Delay(x < 0 ? 60_000 : 0);
        return x + 1L;
    }
}
