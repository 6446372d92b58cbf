using System.Diagnostics;

namespace Nursery.Etl.Bodies;

/// <summary>
/// Which faults the parse stage's children inject, decided from the item's index and <see cref="Seed"/> only, so a run
/// is reproducible: <see cref="Rates"/> are probabilities per item, <see cref="Indices"/> the exact items (for counts).
/// Process faults (kill, oom, hang, garbage) are transient, like a neighbour's memory spike or a flaky node: they hit an
/// item's first attempt only (a marker file in <see cref="MarkerDirectory"/> remembers), so a retry succeeds. A throw
/// is a bug in the code: every attempt throws.
/// </summary>
public sealed record FaultPlan(int Seed, IReadOnlyDictionary<string, double> Rates, IReadOnlyDictionary<string, long[]> Indices, bool InitFail, long MemoryLimitBytes, string MarkerDirectory)
{
    /// <summary>The fault kinds, in the order they are checked.</summary>
    public static readonly IReadOnlyList<string> Kinds = ["kill", "oom", "hang", "garbage", "throw"];

    /// <summary>No faults.</summary>
    public static FaultPlan None { get; } = new(0, new Dictionary<string, double>(), new Dictionary<string, long[]>(), false, 0, "");

    /// <summary>The fault for item <paramref name="index"/>, or null.</summary>
    public string? FaultFor(long index)
    {
        foreach (var kind in Kinds)
        {
            if (Indices.TryGetValue(kind, out var at) && Array.IndexOf(at, index) >= 0)
                return kind;
            if (Rates.TryGetValue(kind, out var rate) && rate > 0 && Uniform(Seed, kind, index) < rate)
                return kind;
        }
        return null;
    }

    /// <summary>A number in [0, 1) that depends only on the seed, the kind and the index (SplitMix64).</summary>
    public static double Uniform(int seed, string kind, long index)
    {
        ArgumentNullException.ThrowIfNull(kind);
        var x = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)index * 0xBF58476D1CE4E5B9UL ^ (ulong)kind.Length * 0x94D049BB133111EBUL ^ kind[0]);
        x = unchecked((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL);
        x = unchecked((x ^ (x >> 27)) * 0x94D049BB133111EBUL);
        x ^= x >> 31;
        return (x >> 11) * (1.0 / (1UL << 53));
    }
}

/// <summary>Injects the planned faults for real, in the child: a SIGKILL, an allocation past the memory limit, a hang, junk on the protocol channel, an exception.</summary>
public static class Faults
{
    private static FaultPlan _plan = FaultPlan.None;

    /// <summary>Installs the plan in this child; throws when the plan says the initializer fails.</summary>
    public static void Install(FaultPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.InitFail)
            throw new InvalidOperationException("injected init-fail: the parse stage's initializer cannot reach its reference data");
        _plan = plan;
    }

    /// <summary>Does to this child what the plan says for item <paramref name="index"/>, if anything.</summary>
    public static void Apply(long index)
    {
        var fault = _plan.FaultFor(index);
        if (fault is not null and not "throw" && !FirstTime(fault, index))
            return;
        switch (fault)
        {
            case "kill":
                using (var self = Process.GetCurrentProcess())
                    self.Kill(); // SIGKILL on Linux, as the OOM killer or an operator would
                Thread.Sleep(Timeout.Infinite);
                break;
            case "oom":
                Allocate(_plan.MemoryLimitBytes > 0 ? _plan.MemoryLimitBytes * 2 : 512L << 20);
                throw new InsufficientMemoryException($"injected oom on item {index}: the allocation succeeded, so no memory limit is enforced here (no writable memory cgroup)");
            case "hang":
                Thread.Sleep(Timeout.Infinite);
                break;
            case "garbage":
                WriteGarbage();
                Thread.Sleep(Timeout.Infinite);
                break;
            case "throw":
                throw new InvalidDataException($"injected throw on item {index}: a bug in the parser");
            default:
                break;
        }
    }

    /// <summary>True once per (fault, item) across every child of the run: the marker file is created atomically.</summary>
    private static bool FirstTime(string fault, long index)
    {
        if (_plan.MarkerDirectory.Length == 0)
            return true;
        try
        {
            using var marker = new FileStream(Path.Combine(_plan.MarkerDirectory, $"{fault}-{index}"), FileMode.CreateNew, FileAccess.Write);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static void Allocate(long bytes)
    {
        var held = new List<byte[]>();
        for (long done = 0; done < bytes; done += 1 << 20)
        {
            var block = new byte[1 << 20];
            for (var page = 0; page < block.Length; page += 4096)
                block[page] = 1;
            held.Add(block);
        }
        GC.KeepAlive(held);
    }

    /// <summary>Bytes that are not a frame, onto the protocol channel itself, as a broken native library might write.</summary>
    private static void WriteGarbage()
    {
        var descriptor = int.Parse(Environment.GetEnvironmentVariable("NURSERY_PROTOCOL_FD") ?? "1", System.Globalization.CultureInfo.InvariantCulture);
        using var channel = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(descriptor, ownsHandle: false), FileAccess.Write, 1);
        channel.Write("debug: parsed order OK\n"u8);
        channel.Flush();
    }
}
