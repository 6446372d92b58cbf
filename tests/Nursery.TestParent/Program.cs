using Nursery;
using Nursery.TestBodies;

// A parent that starts children, prints what it started, and waits to be killed: the orphan tests SIGKILL this
// process and check that the children go too.
//   (no argument)  one worker, busy with a long item; prints "child <pid>".
//   thread         the same, with the worker started from a thread that exits first.
//   grandchildren <marker>
//                  a worker whose body started `sleep 300` (pipes of its own), and a per-item command busy with
//                  `sh -c 'sleep 300 & sleep 300'`, all with NURSERY_TEST_MARK=<marker> in their environment;
//                  prints "child <pid> sleeper <pid>" once the body has started its sleeper.
//   unregistered <marker>
//                  `sh -c 'sleep 300 & sleep 300'` started directly (one posix_spawn, with the orphan guard's mark and
//                  NURSERY_TEST_MARK=<marker> in its environment) and never registered with the guard, as a program is
//                  between its spawn and its registration; prints "child <pid>" ("child 0" where programs are not
//                  started directly).
//   released <marker>
//                  a per-item runner runs one program that leaves a sleep in a session of its own (with the mark
//                  NURSERY_TEST_MARK=<marker>), prints "guard <pid>" (0 where programs are not started directly), is
//                  disposed, prints "released", and the process lives on.
//   one-pool-thread-per-core <directory> <marker>
//                  the thread pool held at one thread per core; a per-item runner runs a program per core plus one at
//                  once, each of which writes its item to a file in <directory> and waits until every one has, then
//                  echoes it (NURSERY_TEST_MARK=<marker> in their environment); prints "done <results>" and exits.
//   journal ...    a pipeline with a job log, for the resume-after-kill test (see JournalRun).
//   spare          a one-worker pool with a warm spare, its worker busy with a long item; prints
//                  "child <pid> spare <pid>" once the spare has been started.
//   cgroup         one worker under a memory limit (so in a memory cgroup of this process's), busy with a long item;
//                  prints "child <pid>".
if (args.Length == 2 && args[0] == "grandchildren")
    return await Grandchildren(args[1]);
if (args.Length == 2 && args[0] == "unregistered")
    return await Unregistered(args[1]);
if (args.Length == 2 && args[0] == "released")
    return await Released(args[1]);
if (args.Length == 3 && args[0] == "one-pool-thread-per-core")
    return await OnePoolThreadPerCore(args[1], args[2]);
if (args.Length > 0 && args[0] == "journal")
    return await Nursery.TestParent.JournalRun.RunAsync(args[1..]);
if (args is ["cgroup"])
    return await InCgroup();
if (args is ["spare"])
    return await WithSpare();

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

static async Task<int> Grandchildren(string marker)
{
    var environment = new Dictionary<string, string> { ["NURSERY_TEST_MARK"] = marker };
    var options = new WorkerOptions { Environment = environment };
    var started = await Worker.StartAsync(Body.From<int, int>(GrandchildBodies.StartDetachedSleeper), options).WaitAsync(TimeSpan.FromSeconds(60));
    var worker = started.Match(w => w, failure => throw failure.ToException());
    var sleeper = (await worker.InvokeAsync(300).WaitAsync(TimeSpan.FromSeconds(60))).Match(pid => pid, failure => throw failure.ToException());
    var command = Command.PerItem<string, string>("sh", "-c", "sleep 300 & sleep 300").WithEnvironment(environment);
    var runner = new PerItemRunner<string, string>(command, new PoolOptions { Workers = 1 });
    _ = runner.InvokeAsync("", "busy");
    Console.WriteLine($"child {worker.ProcessId} sleeper {sleeper}");
    await Task.Delay(TimeSpan.FromMinutes(5));
    return 0;
}

static async Task<int> Unregistered(string marker)
{
    if (!Nursery.Launch.PosixSpawn.Available || !Nursery.Launch.OrphanGuard.Hold())
    {
        Console.WriteLine("child 0");
        return 0;
    }
    var direct = Nursery.Commands.CommandLaunch.Direct("sh", ["-c", "sleep 300 & sleep 300"], new Dictionary<string, string> { ["NURSERY_TEST_MARK"] = marker }, "");
    var started = Nursery.Launch.PosixSpawn.Start(direct.Path!, direct.Arguments, direct.Environment, direct.WorkingDirectory);
    var pid = started.Match(program => program.ProcessId, refused => throw new InvalidOperationException(refused.Reason));
    Console.WriteLine($"child {pid}");
    await Task.Delay(TimeSpan.FromMinutes(5));
    return 0;
}

static async Task<int> Released(string marker)
{
    var environment = new Dictionary<string, string> { ["NURSERY_TEST_MARK"] = marker };
    var runner = new PerItemRunner<string, string>(Command.PerItem<string, string>("sh", "-c", "setsid sleep 300 </dev/null >/dev/null 2>&1 & echo started").WithEnvironment(environment), new PoolOptions { Workers = 1 });
    var result = await runner.InvokeAsync("x", "leaves-a-sleep").WaitAsync(TimeSpan.FromSeconds(60));
    if (result.IsLeft)
        throw new InvalidOperationException($"the program failed: {result}");
    Console.WriteLine($"guard {Nursery.Launch.OrphanGuard.ProcessId}");
    await runner.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
    Console.WriteLine("released");
    await Task.Delay(TimeSpan.FromMinutes(5));
    return 0;
}

static async Task<int> OnePoolThreadPerCore(string directory, string marker)
{
    var programs = Environment.ProcessorCount + 1;
    if (!ThreadPool.SetMaxThreads(Environment.ProcessorCount, Environment.ProcessorCount))
        throw new InvalidOperationException("the thread pool's maximum could not be set");
    var script = "read -r x; : > \"$0/$x\"; while [ \"$(ls \"$0\" | wc -l)\" -lt " + programs + " ]; do sleep 0.01; done; echo \"$x\"";
    var command = Command.PerItem<string, string>("sh", "-c", script, directory).WithEnvironment(new Dictionary<string, string> { ["NURSERY_TEST_MARK"] = marker });
    var runner = new PerItemRunner<string, string>(command, new PoolOptions { Workers = programs });
    await using (runner)
    {
        var items = Enumerable.Range(0, programs).Select(index => runner.InvokeAsync($"item{index}", $"{index}")).ToArray();
        var results = await Task.WhenAll(items).WaitAsync(TimeSpan.FromMinutes(5));
        Console.WriteLine($"done {string.Join(' ', results.Select(result => result.Match(value => value, failure => failure.Kind.ToString())))}");
    }
    return 0;
}

static async Task<int> InCgroup()
{
    var started = await Worker.StartAsync(Body.From<int, int>(Bodies.SleepMilliseconds), new WorkerOptions { MemoryLimit = 256 << 20 }).WaitAsync(TimeSpan.FromSeconds(60));
    var worker = started.Match(w => w, failure => throw failure.ToException());
    _ = worker.InvokeAsync(600_000, "long");
    Console.WriteLine($"child {worker.ProcessId}");
    await Task.Delay(TimeSpan.FromMinutes(5));
    return 0;
}

static async Task<int> WithSpare()
{
    var pool = new WorkerPool<int, int>(Body.From<int, int>(Bodies.SleepMilliseconds), new PoolOptions { Workers = 1, WarmSpare = true });
    await pool.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
    var busy = pool.InvokeWithProcessIdAsync(600_000, "long", 1, 0, default);
    // The spare is started once the first child is ready, in the background.
    var deadline = DateTime.UtcNow.AddSeconds(60);
    while (pool.ProcessIds.Count < 2 && DateTime.UtcNow < deadline)
        await Task.Delay(20);
    await Task.Delay(500);
    var pids = pool.ProcessIds.Order().ToArray();
    Console.WriteLine($"child {pids[0]} spare {pids[^1]}");
    await Task.WhenAny(busy, Task.Delay(TimeSpan.FromMinutes(5)));
    return 0;
}

static Task<T> RunOnThreadThatExits<T>(Func<Task<T>> start)
{
    Task<T>? task = null;
    var thread = new Thread(() => task = start());
    thread.Start();
    thread.Join();
    return task!;
}
