// Starts N trivial workers through a launcher, runs one item in each, and prints what they cost this process
// (resident memory, threads, file descriptors) and the processes it started (the children, or the srun/ssh
// processes of remote ones). Figures for docs/scale-out.md:
//   dotnet run -c Release --project tests/Nursery.ScaleOut.Tests/Simulation -- 200 local
//   dotnet run -c Release --project tests/Nursery.ScaleOut.Tests/Simulation -- 8 slurm     (after .ci/cluster-up)
//   dotnet run -c Release --project tests/Nursery.ScaleOut.Tests/Simulation -- 50 ssh      (after .ci/cluster-up)
using System.Diagnostics;
using System.Globalization;
using Nursery;
using Nursery.TestBodies;

var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
var kind = args.Length > 1 ? args[1] : "local";
var cluster = Environment.GetEnvironmentVariable("NURSERY_CLUSTER_DIR") is { Length: > 0 } dir ? dir : "/tmp/nursery-cluster";
var settings = File.Exists(Path.Combine(cluster, "cluster.env"))
    ? File.ReadAllLines(Path.Combine(cluster, "cluster.env")).Where(l => l.Contains('=')).ToDictionary(l => l[..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..])
    : [];
Launcher launcher = kind switch
{
    "slurm" => Launcher.Slurm() with { Partition = settings.GetValueOrDefault("SLURM_PARTITION", ""), TimeLimit = TimeSpan.FromMinutes(10), DefaultMemoryMebibytes = 128 },
    "ssh" => Launcher.Ssh(settings.GetValueOrDefault("SSH_HOST", "127.0.0.1")) with
    {
        Port = int.Parse(settings.GetValueOrDefault("SSH_PORT", "22"), CultureInfo.InvariantCulture),
        User = settings.GetValueOrDefault("SSH_USER", "root"),
        IdentityFile = settings.GetValueOrDefault("SSH_KEY", ""),
        Options = ["StrictHostKeyChecking=no", "UserKnownHostsFile=/dev/null", "LogLevel=ERROR"],
        ConnectionSharing = TimeSpan.FromSeconds(5),
    },
    _ => Launcher.Local,
};
var options = new WorkerOptions { Name = "simulation", Launcher = launcher, StartTimeout = TimeSpan.FromSeconds(120), HeartbeatTimeout = TimeSpan.FromSeconds(30), KillGrace = TimeSpan.FromSeconds(2) };

// Warm up the parent's own machinery (JIT, thread pool, the spawner thread) with one worker, so the figures are per worker.
await using (var warm = (await Worker.StartAsync(Body.From<int, int>(Bodies.Double), options with { Launcher = Launcher.Local })).Match(w => w, f => throw new InvalidOperationException(f.ToString())))
    await warm.InvokeAsync(1);
GC.Collect();
await Task.Delay(500);
var before = Sample();

var clock = Stopwatch.StartNew();
var workers = new List<Worker<int, int>>();
var failures = 0;
foreach (var batch in Enumerable.Range(0, count).Chunk(10))
{
    var started = await Task.WhenAll(batch.Select(_ => Worker.StartAsync(Body.From<int, int>(Bodies.Double), options)));
    foreach (var result in started)
        result.Match(workers.Add, failure => { failures++; Console.Error.WriteLine(failure.Summary); });
}
var startSeconds = clock.Elapsed.TotalSeconds;
var answers = await Task.WhenAll(workers.Select((worker, i) => worker.InvokeAsync(i)));
var wrong = answers.Select((answer, i) => answer.Match(value => value == i * 2, _ => false)).Count(ok => !ok);
GC.Collect();
await Task.Delay(1000);
var during = Sample();
var launched = ChildrenOfThisProcess();
var launchedRss = launched.Sum(pid => ReadStatus(pid, "VmRSS:"));
var remoteRss = workers.Sum(worker => ReadStatus(worker.ProcessId, "VmRSS:"));

clock.Restart();
await Task.WhenAll(workers.Select(worker => worker.DisposeAsync().AsTask()));
var disposeSeconds = clock.Elapsed.TotalSeconds;
await Task.Delay(1000);
var after = Sample();

var n = Math.Max(1, workers.Count);
Console.WriteLine($"launcher {kind}: {workers.Count} workers started ({failures} failed to start, {wrong} wrong answers) in {startSeconds:F1} s, disposed in {disposeSeconds:F1} s");
Console.WriteLine($"parent               before   with workers   per worker   after dispose");
Console.WriteLine($"  RSS (MiB)      {before.RssKib / 1024.0,10:F1} {during.RssKib / 1024.0,14:F1} {(during.RssKib - before.RssKib) / 1024.0 / n,12:F3} {after.RssKib / 1024.0,15:F1}");
Console.WriteLine($"  managed (MiB)  {before.ManagedBytes / 1048576.0,10:F1} {during.ManagedBytes / 1048576.0,14:F1} {(during.ManagedBytes - before.ManagedBytes) / 1048576.0 / n,12:F3} {after.ManagedBytes / 1048576.0,15:F1}");
Console.WriteLine($"  threads        {before.Threads,10} {during.Threads,14} {(during.Threads - before.Threads) / (double)n,12:F2} {after.Threads,15}");
Console.WriteLine($"  fds            {before.Fds,10} {during.Fds,14} {(during.Fds - before.Fds) / (double)n,12:F2} {after.Fds,15}");
Console.WriteLine($"processes this one started: {launched.Count} ({launchedRss / 1024.0:F1} MiB RSS, {launchedRss / 1024.0 / n:F1} MiB each); the children: {remoteRss / 1024.0:F1} MiB RSS ({remoteRss / 1024.0 / n:F1} MiB each)");
Console.WriteLine($"left running after dispose: {workers.Count(worker => Directory.Exists($"/proc/{worker.ProcessId}"))} children, {ChildrenOfThisProcess().Count} direct children");

static (long RssKib, long ManagedBytes, int Threads, int Fds) Sample() =>
    (ReadStatus(Environment.ProcessId, "VmRSS:"), GC.GetTotalMemory(true), (int)ReadStatus(Environment.ProcessId, "Threads:"), Directory.GetFiles("/proc/self/fd").Length);

static long ReadStatus(int pid, string field)
{
    try
    {
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }
    catch (IOException)
    {
        return 0;
    }
}

static List<int> ChildrenOfThisProcess()
{
    var found = new List<int>();
    foreach (var entry in Directory.EnumerateDirectories("/proc"))
    {
        if (!int.TryParse(Path.GetFileName(entry), out var pid))
            continue;
        try
        {
            var stat = File.ReadAllText(Path.Combine(entry, "stat"));
            if (int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture) == Environment.ProcessId)
                found.Add(pid);
        }
        catch (IOException) { }
    }
    return found;
}
