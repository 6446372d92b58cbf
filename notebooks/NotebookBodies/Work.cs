using System.Globalization;

namespace Nursery.NotebookBodies;

/// <summary>
/// The bodies the notebooks run in child processes: static methods in a compiled assembly. Each order says what the
/// child should do with it, so one stage can show real work and each way a child fails.
/// </summary>
public static class Work
{
    /// <summary>
    /// Runs one order: "square N" returns N², "throw" throws, "exit N" ends the child with exit code N, "allocate N"
    /// holds N MiB, "hang" never returns, "garbage" writes stray bytes onto the protocol channel, and
    /// "hold PATH" writes the child's pid to PATH and works for 60 s (long enough for the notebook to kill it).
    /// </summary>
    public static long Run(string order)
    {
        ArgumentNullException.ThrowIfNull(order);
        var parts = order.Split(' ', 2, StringSplitOptions.TrimEntries);
        var argument = parts.Length > 1 ? parts[1] : "";
        return parts[0] switch
        {
            "square" => Square(long.Parse(argument, CultureInfo.InvariantCulture)),
            "throw" => throw new InvalidOperationException($"the order \"{order}\" cannot be carried out"),
            "exit" => Exit(int.Parse(argument, CultureInfo.InvariantCulture)),
            "allocate" => Allocate(int.Parse(argument, CultureInfo.InvariantCulture)),
            "hang" => Hang(),
            "garbage" => Garbage(),
            "hold" => Hold(argument),
            _ => throw new FormatException($"unknown order \"{order}\""),
        };
    }

    /// <summary>N², for a stage of its own.</summary>
    public static long Square(long number) => number * number;

    /// <summary>Parses a number; throws FormatException on anything else.</summary>
    public static long Parse(string text) => long.Parse(text, CultureInfo.InvariantCulture);

    /// <summary>An initializer that cannot reach its database: every child fails to start (StartFailed).</summary>
    public static void ConnectTo(string database) => throw new InvalidOperationException($"the database at {database} is not reachable");

    /// <summary>Waits (at most <paramref name="timeout"/>) until the child running a "hold PATH" order has written its pid to PATH.</summary>
    public static int WaitForPid(string path, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (File.Exists(path) && int.TryParse(File.ReadAllText(path), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                return pid;
            Thread.Sleep(20);
        }
        throw new TimeoutException($"no child wrote its pid to {path} within {timeout}");
    }

    /// <summary>Whether every one of these processes is gone (no /proc entry), waiting up to 5 s for them to be reaped.</summary>
    public static bool AllGone(IEnumerable<int> processIds)
    {
        var pids = processIds.ToList();
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (pids.Exists(pid => Directory.Exists($"/proc/{pid}")) && DateTime.UtcNow < deadline)
            Thread.Sleep(20);
        return !pids.Exists(pid => Directory.Exists($"/proc/{pid}"));
    }

    private static long Exit(int code)
    {
        Environment.Exit(code);
        return code;
    }

    private static long Allocate(int mebibytes)
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

    private static long Hang()
    {
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }

    // Writes onto the protocol channel itself, as a native library printing to fd 1 would (Console.Out is already
    // sent to stderr by the child host, so a plain Console.WriteLine cannot do this).
    private static long Garbage()
    {
        var descriptor = int.Parse(Environment.GetEnvironmentVariable("NURSERY_PROTOCOL_FD") ?? "1", CultureInfo.InvariantCulture);
        using var channel = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(descriptor, ownsHandle: false), FileAccess.Write, 1);
        channel.Write("hello from a stray print\n"u8);
        channel.Flush();
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }

    private static long Hold(string path)
    {
        File.WriteAllText(path, Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Thread.Sleep(TimeSpan.FromSeconds(60));
        return 0;
    }
}
