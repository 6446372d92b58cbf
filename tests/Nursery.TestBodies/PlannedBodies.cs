using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Nursery.TestBodies;

/// <summary>
/// An item that carries its own fault plan: one token per stage (then one for the sink), separated by '/'.
/// A token is <c>[+][~]kind</c>: '+' starts a grandchild (<c>sleep 300</c>) first, '~' makes the fault transient (it
/// happens on the first attempt only; later attempts return). Kinds: R returns, W&lt;ms&gt; sleeps then returns, T throws,
/// X&lt;code&gt; exits with the code, K sends itself SIGKILL, O allocates past the memory limit, H sleeps forever,
/// S sends itself SIGSTOP, G&lt;hex&gt; writes those bytes to the protocol channel and then sleeps forever.
/// </summary>
public sealed record PlannedItem(int Index, long Value, string Plan);

/// <summary>
/// Stage bodies for the property tests: each does what the item's plan says for its stage. Every process that runs one
/// needs <see cref="RunVariable"/> (the run's directory): it records its pid there, and transient faults keep their
/// "already failed once" marks there.
/// </summary>
public static partial class PlannedBodies
{
    /// <summary>The environment variable naming the run's directory; the property suite finds the run's processes by it.</summary>
    public const string RunVariable = "NURSERY_PROPS_RUN";

    private static int _pidRecorded;

    /// <summary>The value a stage returns for an item that it processes without a fault.</summary>
    public static long Next(long value, int stage) => value * 3 + stage + 1;

    public static PlannedItem Stage0(PlannedItem item) => Run(item, 0);

    public static PlannedItem Stage1(PlannedItem item) => Run(item, 1);

    public static PlannedItem Stage2(PlannedItem item) => Run(item, 2);

    public static PlannedItem Stage3(PlannedItem item) => Run(item, 3);

    public static void FailingInit() => throw new InvalidOperationException("the planned initializer fails on purpose");

    /// <summary>The token for <paramref name="stage"/> with its prefixes applied: the grandchild started, a transient fault already seen turned into R.</summary>
    public static string Apply(string plan, int index, int stage, string runDirectory, Action startGrandchild)
    {
        var token = plan.Split('/')[stage];
        if (token.StartsWith('+'))
        {
            startGrandchild();
            token = token[1..];
        }
        if (token.StartsWith('~'))
        {
            token = token[1..];
            var mark = Path.Combine(runDirectory, $"t-s{stage}-{index}");
            if (File.Exists(mark))
                return "R";
            File.WriteAllBytes(mark, []);
        }
        return token;
    }

    private static PlannedItem Run(PlannedItem item, int stage)
    {
        var run = Environment.GetEnvironmentVariable(RunVariable);
        if (string.IsNullOrEmpty(run))
            throw new InvalidOperationException($"{RunVariable} is not set in the child: the property suite cannot find this run's processes");
        if (Interlocked.Exchange(ref _pidRecorded, 1) == 0)
            File.WriteAllBytes(Path.Combine(run, $"pid-{Environment.ProcessId}"), []);
        var token = Apply(item.Plan, item.Index, stage, run, StartGrandchild);
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
                WriteGarbage(Convert.FromHexString(token.AsSpan(1)));
                Thread.Sleep(Timeout.Infinite);
                break;
            default:
                throw new ArgumentException($"unknown plan token '{token}'", nameof(item));
        }
        return item with { Value = Next(item.Value, stage) };
    }

    /// <summary>A process the body starts and does not wait for; it inherits the child's environment (and so the run's variable).</summary>
    private static void StartGrandchild()
    {
        using var process = Process.Start(new ProcessStartInfo("sleep", "300") { UseShellExecute = false });
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

    private static void WriteGarbage(byte[] bytes)
    {
        var descriptor = int.Parse(Environment.GetEnvironmentVariable("NURSERY_PROTOCOL_FD") ?? "1", CultureInfo.InvariantCulture);
        using var channel = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(descriptor, ownsHandle: false), FileAccess.Write, 1);
        channel.Write(bytes);
        channel.Flush();
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
