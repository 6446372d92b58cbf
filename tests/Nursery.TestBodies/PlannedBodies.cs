using System.Globalization;
using System.Runtime.InteropServices;

namespace Nursery.TestBodies;

/// <summary>
/// An item that carries its own fault plan: one token per stage, separated by '/'. R returns, W<ms> sleeps then
/// returns, T throws, X<code> exits with the code, K sends itself SIGKILL, O allocates past the memory limit,
/// H sleeps forever, S sends itself SIGSTOP, G writes garbage to the protocol channel.
/// </summary>
public sealed record PlannedItem(int Index, long Value, string Plan);

/// <summary>Stage bodies for the property tests: each does what the item's plan says for its stage.</summary>
public static partial class PlannedBodies
{
    /// <summary>The value a stage returns for an item that it processes without a fault.</summary>
    public static long Next(long value, int stage) => value * 3 + stage + 1;

    public static PlannedItem Stage0(PlannedItem item) => Run(item, 0);

    public static PlannedItem Stage1(PlannedItem item) => Run(item, 1);

    public static PlannedItem Stage2(PlannedItem item) => Run(item, 2);

    public static PlannedItem Stage3(PlannedItem item) => Run(item, 3);

    public static void FailingInit() => throw new InvalidOperationException("the planned initializer fails on purpose");

    private static PlannedItem Run(PlannedItem item, int stage)
    {
        var token = item.Plan.Split('/')[stage];
        switch (token[0])
        {
            case 'R':
                break;
            case 'W':
                Thread.Sleep(int.Parse(token[1..], CultureInfo.InvariantCulture));
                break;
            case 'T':
                throw new InvalidOperationException($"planned throw for item {item.Index} at stage {stage}");
            case 'X':
                Environment.Exit(int.Parse(token[1..], CultureInfo.InvariantCulture));
                break;
            case 'K':
                _ = kill(Environment.ProcessId, 9);
                Thread.Sleep(Timeout.Infinite);
                break;
            case 'O':
                AllocatePastAnyLimit();
                break;
            case 'H':
                Thread.Sleep(Timeout.Infinite);
                break;
            case 'S':
                _ = kill(Environment.ProcessId, 19);
                Thread.Sleep(Timeout.Infinite);
                break;
            case 'G':
                WriteGarbage();
                Thread.Sleep(Timeout.Infinite);
                break;
            default:
                throw new ArgumentException($"unknown plan token '{token}'", nameof(item));
        }
        return item with { Value = Next(item.Value, stage) };
    }

    private static void AllocatePastAnyLimit()
    {
        // Up to 2 GiB touched: far past the stage's limit, so the kernel's OOM killer ends the child.
        var held = new List<byte[]>();
        for (var i = 0; i < 2048; i++)
        {
            var block = new byte[1 << 20];
            for (var page = 0; page < block.Length; page += 4096)
                block[page] = 1;
            held.Add(block);
        }
        GC.KeepAlive(held);
        Environment.Exit(97);
    }

    private static void WriteGarbage()
    {
        var descriptor = int.Parse(Environment.GetEnvironmentVariable("NURSERY_PROTOCOL_FD") ?? "1", CultureInfo.InvariantCulture);
        using var channel = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(descriptor, ownsHandle: false), FileAccess.Write, 1);
        channel.Write("hello from a stray print\n"u8);
        channel.Flush();
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
