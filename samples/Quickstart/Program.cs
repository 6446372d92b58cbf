using System.Globalization;
using System.Runtime.InteropServices;
using LanguageExt;
using Microsoft.Extensions.Logging;
using Nursery;
using Nursery.Quickstart;

// Nursery in half a minute: real work in a supervised child process, then the ways a child fails, each one coming
// back as a value (Either<ChildFailure, T>), and at the end proof that no child is left running.
//   dotnet run --project samples/Quickstart        exit code 0 when every item came back as expected

var bound = TimeSpan.FromSeconds(45); // no await in this program waits longer
var rows = new List<Row>();
var pids = new List<int>();

string[] lines =
[
    "the quick brown fox jumps over the lazy dog",
    "a worker throws and the parent hears of it at once",
    "a worker is killed and the parent hears of it at once",
    "a worker hangs and its deadline kills it",
    "nothing is left running",
    "every failure is a value",
    "seven cases no more",
    "Faulted Crashed OutOfMemory TimedOut",
    "StartFailed ProtocolViolation Cancelled",
    "and the results come back in order",
];

// 1. Real work: ten lines through one child, then a line the body rejects. A body that throws is Faulted, with the
//    child's exception and stack trace, and the child lives on: the same child answers the next line.
Console.WriteLine("1. ten lines through one child, then one the body throws on");
await WithWorkerAsync(
    Body.From<string, WordCount>(Work.CountWords),
    Options("count-words"),
    async worker =>
    {
        var results = await Task.WhenAll(lines.Select((line, i) => worker.InvokeAsync(line, key: $"line {i + 1}"))).WaitAsync(bound);
        for (var i = 0; i < lines.Length; i++)
            NoteResult("count-words", $"line {i + 1}", worker.ProcessId, Work.CountWords(lines[i]), results[i]);

        var bad = await worker.InvokeAsync("   ", key: "line 11 (blank)").WaitAsync(bound);
        bad.IfLeft(failure => Console.WriteLine(Indent(failure.ToString())));
        Note("count-words", "line 11 (blank)", worker.ProcessId, "Faulted (InvalidDataException)", bad);

        var after = await worker.InvokeAsync("the same child goes on", key: "line 12").WaitAsync(bound);
        NoteResult("count-words", "line 12", worker.ProcessId, Work.CountWords("the same child goes on"), after);
    }
);

// 2. Someone kills the busy child with kill -9 (here: this program, by the child's pid). The item it was running is
//    Crashed with signal 9. With no MemoryLimit the parent cannot tell that from the OOM killer, and says so.
Console.WriteLine("2. kill -9 of a busy child");
await WithWorkerAsync(
    Body.FromAsync<int, int>(Work.BusyAsync),
    Options("busy"),
    async worker =>
    {
        var running = worker.InvokeAsync(60_000, key: "60 s of work");
        await Task.Delay(TimeSpan.FromMilliseconds(500)); // let the child take the item
        Console.WriteLine($"   kill -9 {worker.ProcessId}");
        Signals.Send(worker.ProcessId, Signals.Kill);
        var killed = await running.WaitAsync(bound);
        killed.IfLeft(failure => Console.WriteLine(Indent(failure.ToString())));
        Note("busy", "60 s of work", worker.ProcessId, "Crashed (signal 9)", killed);
    }
);

// 3. A fresh worker whose item hangs. ItemTimeout kills the child: the hung item is TimedOut, and the item queued
//    behind it is Cancelled with ItemStarted = false, so a pool could run it elsewhere safely.
Console.WriteLine("3. an item that hangs, under a 1 s ItemTimeout");
await WithWorkerAsync(
    Body.FromAsync<int, int>(Work.HangAsync),
    Options("hang") with { ItemTimeout = TimeSpan.FromSeconds(1) },
    async worker =>
    {
        var hung = worker.InvokeAsync(1, key: "hangs");
        var behind = worker.InvokeAsync(2, key: "queued behind it");
        var results = await Task.WhenAll(hung, behind).WaitAsync(bound);
        Note("hang", "hangs", worker.ProcessId, "TimedOut (ItemDeadline)", results[0]);
        Note("hang", "queued behind it", worker.ProcessId, "Cancelled (not started)", results[1]);
    }
);

// 4. A fresh worker under a 64 MiB MemoryLimit (a memory cgroup) allocates 256 MiB. The kernel's OOM killer ends it,
//    and the cgroup's oom_kill counter tells the parent it was OutOfMemory, not just any SIGKILL. Where memory cgroups
//    are not writable, the worker logs why and runs without a limit; then this case is skipped.
Console.WriteLine("4. an item that allocates 256 MiB under a 64 MiB MemoryLimit");
var warnings = new WarningCollector();
await WithWorkerAsync(
    Body.From<int, int>(Work.Allocate),
    Options("allocate") with { MemoryLimit = 64L << 20, Logger = warnings },
    async worker =>
    {
        if (warnings.Messages.Count > 0)
        {
            Console.WriteLine($"   skipped: {string.Join("; ", warnings.Messages)}");
            rows.Add(new Row("allocate", "256 MiB", worker.ProcessId, "OutOfMemory", "skipped", "no writable memory cgroup here", Ok: true));
            return;
        }
        var allocated = await worker.InvokeAsync(256, key: "256 MiB").WaitAsync(bound);
        allocated.IfLeft(failure => Console.WriteLine(Indent(failure.ToString())));
        Note("allocate", "256 MiB", worker.ProcessId, "OutOfMemory", allocated);
    }
);

// 5. After all that, a fresh worker simply works.
Console.WriteLine("5. a fresh worker after all that");
await WithWorkerAsync(
    Body.From<string, WordCount>(Work.CountWords),
    Options("count-words"),
    async worker => NoteResult("count-words", "one more line", worker.ProcessId, Work.CountWords("life goes on"), await worker.InvokeAsync("life goes on", key: "one more line").WaitAsync(bound))
);

// What came back, per item.
Console.WriteLine();
Console.WriteLine($"{"ok",-3} {"stage",-12} {"item",-17} {"pid",-7} {"came back",-31} detail");
foreach (var row in rows)
{
    var detail = row.Ok ? row.Detail : $"EXPECTED {row.Expected}; {row.Detail}";
    Console.WriteLine($"{(row.Ok ? "ok" : "NO"),-3} {row.Stage,-12} {row.Item,-17} {row.Pid,-7} {Clip(row.Got, 31),-31} {Clip(detail, 64)}");
}

// Every child this program started must be gone: not running, not a zombie, no /proc entry at all.
var left = new List<int>();
foreach (var pid in pids.Distinct())
{
    if (!await GoneAsync(pid, TimeSpan.FromSeconds(5)))
        left.Add(pid);
}
Console.WriteLine();
Console.WriteLine(
    left.Count == 0
        ? $"children started: {string.Join(", ", pids.Distinct())}; every one is gone (no /proc/<pid>)"
        : $"STILL RUNNING: {string.Join(", ", left)} of {string.Join(", ", pids.Distinct())}"
);

var unexpected = rows.Count(row => !row.Ok);
var skipped = rows.Count(row => row.Got == "skipped");
Console.WriteLine(
    unexpected == 0 && left.Count == 0
        ? $"all {rows.Count - skipped} items came back as expected{(skipped > 0 ? $" ({skipped} skipped)" : "")}"
        : $"{unexpected} of {rows.Count} items did not come back as expected; {left.Count} children left running"
);
return unexpected == 0 && left.Count == 0 ? 0 : 1;

// Starts a fresh worker, hands it to `use`, and disposes it (stdin closed, killed after KillGrace, reaped).
// A worker that cannot start is a value too: StartFailed, with no process left behind. Only this program's own
// mistakes throw (an await past its bound, a refused kill); they count as unexpected and the run goes on.
async Task WithWorkerAsync<TIn, TOut>(Body<TIn, TOut> body, WorkerOptions options, Func<Worker<TIn, TOut>, Task> use)
{
    try
    {
        var started = await Worker.StartAsync(body, options).WaitAsync(bound);
        await started.Match(
            Right: async worker =>
            {
                pids.Add(worker.ProcessId);
                try
                {
                    await use(worker).WaitAsync(bound);
                }
                finally
                {
                    await worker.DisposeAsync().AsTask().WaitAsync(bound);
                }
            },
            Left: failure =>
            {
                if (failure.ProcessId > 0)
                    pids.Add(failure.ProcessId);
                Console.WriteLine(Indent(failure.ToString()));
                rows.Add(new Row(options.Name ?? "worker", "(start)", failure.ProcessId, "a ready worker", Label(failure), failure.Summary, Ok: false));
                return Task.CompletedTask;
            }
        );
    }
    catch (Exception exception) when (exception is TimeoutException or InvalidOperationException or IOException)
    {
        Console.WriteLine($"   {exception.GetType().Name}: {exception.Message}");
        rows.Add(new Row(options.Name ?? "worker", "(this program)", 0, "no exception", exception.GetType().Name, exception.Message, Ok: false));
    }
}

// Records what came back for one item next to what was expected: a result equal to the one computed here, or a failure.
void NoteResult<T>(string stage, string item, int pid, T expected, Either<ChildFailure, T> result)
    where T : notnull => Note(stage, item, pid, "Right", result, value => value.Equals(expected) ? "Right" : "Right (wrong value)");

void Note<T>(string stage, string item, int pid, string expected, Either<ChildFailure, T> result, Func<T, string>? judge = null)
    where T : notnull
{
    var (got, detail) = result.Match(Right: value => (judge?.Invoke(value) ?? "Right", value.ToString() ?? ""), Left: failure => (Label(failure), failure.Summary));
    rows.Add(new Row(stage, item, pid, expected, got, detail, Ok: got == expected));
}

// The exhaustive match over the seven cases: the compiler makes you say what each one means to you.
static string Label(ChildFailure failure) =>
    failure.Match(
        faulted: f => $"Faulted ({f.Error.Type.Split('.')[^1]})",
        startFailed: _ => "StartFailed",
        crashed: c => c.Signal.Match(Some: signal => $"Crashed (signal {signal})", None: () => $"Crashed (exit {c.ExitCode})"),
        outOfMemory: _ => "OutOfMemory",
        timedOut: t => $"TimedOut ({t.Limit})",
        protocolViolation: _ => "ProtocolViolation",
        cancelled: c => c.ItemStarted ? "Cancelled (started)" : "Cancelled (not started)"
    );

static WorkerOptions Options(string stage) => new() { Name = stage, KillGrace = TimeSpan.FromSeconds(1) };

static async Task<bool> GoneAsync(int pid, TimeSpan within)
{
    var deadline = DateTime.UtcNow + within;
    while (Directory.Exists($"/proc/{pid}") && DateTime.UtcNow < deadline)
        await Task.Delay(20);
    return !Directory.Exists($"/proc/{pid}");
}

static string Indent(string text) => "   " + text.ReplaceLineEndings(Environment.NewLine + "   ");

static string Clip(string text, int width) => text.Length <= width ? text : string.Concat(text.AsSpan(0, width - 1), "…");

/// <summary>One item as the table shows it.</summary>
internal sealed record Row(string Stage, string Item, int Pid, string Expected, string Got, string Detail, bool Ok);

/// <summary>Sends signals, as <c>kill(1)</c> does, only to child hosts this program started.</summary>
internal static partial class Signals
{
    public const int Kill = 9;

    public static void Send(int pid, int signal)
    {
        var commandLine = pid > 1 && pid != Environment.ProcessId ? File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline") : "";
        if (!commandLine.Contains("Nursery.ChildHost.dll", StringComparison.Ordinal))
            throw new InvalidOperationException($"refusing to signal pid {pid}: it is not a Nursery child host ({commandLine.Replace('\0', ' ')})");
        if (kill(pid, signal) != 0)
            throw new InvalidOperationException($"kill({pid}, {signal}) failed with errno {Marshal.GetLastPInvokeError()}");
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}

/// <summary>Keeps the warnings a worker logs; the worker warns when it cannot make a memory cgroup, and says why.</summary>
internal sealed class WarningCollector : ILogger
{
    private readonly List<string> _messages = [];
    private readonly Lock _gate = new();

    public IReadOnlyList<string> Messages
    {
        get
        {
            lock (_gate)
                return [.. _messages];
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        if (!IsEnabled(logLevel))
            return;
        lock (_gate)
            _messages.Add(formatter(state, exception));
    }
}
