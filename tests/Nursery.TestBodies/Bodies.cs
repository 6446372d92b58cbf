using System.Runtime.InteropServices;

namespace Nursery.TestBodies;

/// <summary>Stage bodies that misbehave on purpose, run in real child processes by the tests.</summary>
public static class Bodies
{
    private static int _factor = 1;

    public static int Double(int x) => x * 2;

    public static string Echo(string text) => text;

    public static async Task<int> DoubleAsync(int x)
    {
        await Task.Yield();
        return x * 2;
    }

    /// <summary>Doubles after an await; throws after the await for a negative item.</summary>
    public static async Task<int> DoubleAsyncOrThrow(int x)
    {
        await Task.Yield();
        return x < 0 ? throw new InvalidOperationException($"async item {x} is bad") : x * 2;
    }

    public static int Pid(int _) => Environment.ProcessId;

    /// <summary>Starts <c>sleep</c> for <paramref name="seconds"/> seconds, a process of the body's own, and returns its pid without waiting for it.</summary>
    public static int StartSleeper(int seconds)
    {
        using var sleeper = System.Diagnostics.Process.Start("sleep", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return sleeper.Id;
    }

    public static int Throw(int x) => throw new InvalidOperationException($"item {x} is bad"); // ThrowLine

    public static int ThrowOn13(int x) => x == 13 ? throw new ArgumentException("13 is unlucky") : x * 2;

    public static int Exit3(int x)
    {
        Environment.Exit(3);
        return x;
    }

    /// <summary>Exits with code 3 on a negative item (a child that dies by itself), returns the item otherwise.</summary>
    public static int ExitOnNegative(int x)
    {
        if (x < 0)
            Environment.Exit(3);
        return x;
    }

    /// <summary>Sleeps forever on a negative item (a hang), returns the item otherwise.</summary>
    public static int HangOnNegative(int x)
    {
        if (x < 0)
            Thread.Sleep(Timeout.Infinite);
        return x;
    }

    public static int StackOverflow(int x) => Recurse(x);

    private static int Recurse(int depth) => depth == int.MinValue ? 0 : Recurse(depth + 1) + 1;

    public static int FailFast(int x)
    {
        Environment.FailFast($"failing fast on item {x}");
        return x;
    }

    /// <summary>Allocates and touches <paramref name="mebibytes"/> MiB, then returns how many it held.</summary>
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

    public static int SleepForever(int x)
    {
        Thread.Sleep(Timeout.Infinite);
        return x;
    }

    public static int SleepMilliseconds(int milliseconds)
    {
        Thread.Sleep(milliseconds);
        return milliseconds;
    }

    /// <summary>Writes bytes that are not a frame onto the protocol channel itself, as a broken native library might.</summary>
    public static int Garbage(int x)
    {
        var descriptor = int.Parse(Environment.GetEnvironmentVariable("NURSERY_PROTOCOL_FD") ?? "1", System.Globalization.CultureInfo.InvariantCulture);
        using var channel = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(descriptor, ownsHandle: false), FileAccess.Write, 1);
        channel.Write("hello from a stray print\n"u8);
        channel.Flush();
        Thread.Sleep(Timeout.Infinite);
        return x;
    }

    /// <summary>
    /// <see cref="Garbage"/> through the descriptor a native library would find: <c>NURSERY_PROTOCOL_FD</c> in the
    /// process's own environment block (/proc/self/environ), not the runtime's managed copy of it.
    /// </summary>
    public static int NativeGarbage(int x)
    {
        const string prefix = "NURSERY_PROTOCOL_FD=";
        var entry = File.ReadAllText("/proc/self/environ").Split('\0').FirstOrDefault(e => e.StartsWith(prefix, StringComparison.Ordinal))
            ?? throw new InvalidOperationException("NURSERY_PROTOCOL_FD is not in the process's environment block");
        var descriptor = int.Parse(entry.AsSpan(prefix.Length), System.Globalization.CultureInfo.InvariantCulture);
        using var channel = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(descriptor, ownsHandle: false), FileAccess.Write, 1);
        channel.Write("hello from a native print\n"u8);
        channel.Flush();
        Thread.Sleep(Timeout.Infinite);
        return x;
    }

    /// <summary>The id <see cref="ForgedReply"/> answers, which no parent ever gives.</summary>
    public const long ForgedId = 987_654_321_012;

    /// <summary>
    /// Writes a well-formed reply frame onto the protocol channel, a result for an item the child was never given
    /// (<see cref="ForgedId"/>), then hangs: a protocol violation only the parent's books can see.
    /// </summary>
    public static int ForgedReply(int x)
    {
        var descriptor = int.Parse(Environment.GetEnvironmentVariable("NURSERY_PROTOCOL_FD") ?? "1", System.Globalization.CultureInfo.InvariantCulture);
        // [u32 length][u8 kind = 5, Reply][u32 count = 1][i64 id][u8 status = 0, Ok][u32 length = 1]["7"], little-endian.
        var frame = new byte[4 + 1 + 4 + 8 + 1 + 4 + 1];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)(frame.Length - 4));
        frame[4] = 5;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(5), 1);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(frame.AsSpan(9), ForgedId);
        frame[17] = 0;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(18), 1);
        frame[22] = (byte)'7';
        using var channel = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(descriptor, ownsHandle: false), FileAccess.Write, 1);
        channel.Write(frame);
        channel.Flush();
        Thread.Sleep(Timeout.Infinite);
        return x;
    }

    /// <summary>Prints to stdout the ways user code does (Console, the raw stdout stream, libc) and still returns.</summary>
    public static int Noisy(int x)
    {
        Console.WriteLine($"console line for {x}");
        using (var stdout = Console.OpenStandardOutput())
            stdout.Write("raw stdout bytes\n"u8);
        _ = puts($"native puts for {x}");
        _ = fflush(0);
        Console.Error.WriteLine($"stderr line for {x}");
        return x + 1;
    }

    /// <summary>Starts a background process that inherits the host's stderr, prints its pid, then exits with code 3.</summary>
    public static int SpawnSleeperThenExit(int x)
    {
        using var sleeper = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sleep", "300") { UseShellExecute = false })!;
        Console.Error.WriteLine($"sleeper {sleeper.Id}");
        Console.Error.Flush();
        Environment.Exit(3);
        return x;
    }

    public static void FailingInitializer() => throw new InvalidOperationException("the database is not reachable from the initializer");

    public static void SetFactor(int factor) => _factor = factor;

    /// <summary>Sleeps forever on a negative item, throws on 13, doubles anything else.</summary>
    public static int HangOnNegativeThrowOn13(int x) => x < 0 ? HangOnNegative(x) : ThrowOn13(x);

    public static int Multiply(int x) => x * _factor;

    public static Order Parse(string line)
    {
        var parts = line.Split(',');
        return new Order(parts[0], int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), [.. parts.Skip(2)]);
    }

    [DllImport("libc", CharSet = CharSet.Ansi)]
    private static extern int puts(string text);

    [DllImport("libc")]
    private static extern int fflush(nint stream);
}

public sealed record Order(string Id, int Quantity, IReadOnlyList<string> Tags);
