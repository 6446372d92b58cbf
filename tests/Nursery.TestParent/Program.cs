using Nursery;
using Nursery.TestBodies;

// With "journal" as first argument: a pipeline with a job log, for the resume-after-kill test (see JournalRun).
if (args.Length > 0 && args[0] == "journal")
    return await Nursery.TestParent.JournalRun.RunAsync(args[1..]);

// A parent that starts one worker, prints its pid, and waits to be killed: the orphan tests SIGKILL this process
// and check that the child goes too. With "thread" as argument the worker is started from a thread that exits first.
var fromShortLivedThread = args.Contains("thread");
var startTask = fromShortLivedThread
    ? RunOnThreadThatExits(() => Worker.StartAsync(Body.From<int, int>(Bodies.SleepMilliseconds)))
    : Worker.StartAsync(Body.From<int, int>(Bodies.SleepMilliseconds));
var started = await startTask.WaitAsync(TimeSpan.FromSeconds(60));
var worker = started.Match(w => w, failure => throw failure.ToException());
_ = worker.InvokeAsync(600_000, "long");
Console.WriteLine($"child {worker.ProcessId}");
await Task.Delay(TimeSpan.FromMinutes(5));
return 0;

static Task<T> RunOnThreadThatExits<T>(Func<Task<T>> start)
{
    Task<T>? task = null;
    var thread = new Thread(() => task = start());
    thread.Start();
    thread.Join();
    return task!;
}
