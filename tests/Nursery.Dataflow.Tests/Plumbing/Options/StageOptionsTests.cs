using Nursery.Engines;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Nursery.TestBodies;

namespace Nursery.Dataflow.Tests.Plumbing.Options;

/// <summary>
/// A stage's options reach its pool and its children as they were set, and bad values are refused when the stage is
/// built, naming the setting. Stages are built, never run: no child is started.
/// </summary>
public sealed class StageOptionsTests
{
    private static readonly ILogger ScopeLogger = new NamedLogger("scope");
    private static readonly ILogger StageLogger = new NamedLogger("stage");

    private static readonly IReadOnlyDictionary<string, string> Marker = new Dictionary<string, string> { ["MARK"] = "1" };

    /// <summary>A setting: how to set it on a stage to a value other than its default, and where the pool or child holds it then.</summary>
    private static readonly Dictionary<string, (Func<StageOptions, StageOptions> Set, Func<WorkerPool<int, int>, object?> Read, object? Expected)> Settings = new()
    {
        ["Workers"] = (o => o with { Workers = 3 }, p => p.Options.Workers, 3),
        ["ItemsPerWorker"] = (o => o with { ItemsPerWorker = 7 }, p => p.Options.ItemsPerWorker, 7),
        ["ItemsPerWorker (a child's frame)"] = (o => o with { ItemsPerWorker = 7 }, p => p.ChildOptions.MaxFrameItems, 7),
        ["StartEagerly"] = (o => o with { StartEagerly = false }, p => p.Options.StartEagerly, false),
        ["RecycleAfter"] = (o => o with { RecycleAfter = 5 }, p => p.Options.RecycleAfter, 5),
        ["RestartIntensity"] = (o => o with { RestartIntensity = new(4, TimeSpan.FromSeconds(3)) }, p => p.Options.RestartIntensity, new RestartIntensity(4, TimeSpan.FromSeconds(3))),
        ["MaxFailedStartsInARow"] = (o => o with { MaxFailedStartsInARow = 9 }, p => p.Options.MaxFailedStartsInARow, 9),
        ["Worker.ItemTimeout"] = (o => o with { Worker = o.Worker with { ItemTimeout = TimeSpan.FromSeconds(7) } }, p => p.ChildOptions.ItemTimeout, TimeSpan.FromSeconds(7)),
        ["Worker.MemoryLimit"] = (o => o with { Worker = o.Worker with { MemoryLimit = 96L << 20 } }, p => p.ChildOptions.MemoryLimit, 96L << 20),
        ["Worker.KillGrace"] = (o => o with { Worker = o.Worker with { KillGrace = TimeSpan.FromMilliseconds(300) } }, p => p.ChildOptions.KillGrace, TimeSpan.FromMilliseconds(300)),
        ["Worker.HeartbeatInterval"] = (o => o with { Worker = o.Worker with { HeartbeatInterval = TimeSpan.FromMilliseconds(200) } }, p => p.ChildOptions.HeartbeatInterval, TimeSpan.FromMilliseconds(200)),
        ["Worker.HeartbeatTimeout"] = (o => o with { Worker = o.Worker with { HeartbeatTimeout = TimeSpan.FromSeconds(9) } }, p => p.ChildOptions.HeartbeatTimeout, TimeSpan.FromSeconds(9)),
        ["Worker.StartTimeout"] = (o => o with { Worker = o.Worker with { StartTimeout = TimeSpan.FromSeconds(11) } }, p => p.ChildOptions.StartTimeout, TimeSpan.FromSeconds(11)),
        ["Worker.BatchReplies"] = (o => o with { Worker = o.Worker with { BatchReplies = false } }, p => p.ChildOptions.BatchReplies, false),
        ["Worker.MaxResultBytes"] = (o => o with { Worker = o.Worker with { MaxResultBytes = 1 << 16 } }, p => p.ChildOptions.MaxResultBytes, 1 << 16),
        ["Worker.Host"] = (o => o with { Worker = o.Worker with { Host = new ChildHostLocation("/opt/host/Nursery.ChildHost.dll", "/opt/dotnet/dotnet") } }, p => p.ChildOptions.Host, new ChildHostLocation("/opt/host/Nursery.ChildHost.dll", "/opt/dotnet/dotnet")),
        ["Worker.Environment"] = (o => o with { Worker = o.Worker with { Environment = Marker } }, p => p.ChildOptions.Environment, Marker),
        ["Worker.Logger"] = (o => o with { Worker = o.Worker with { Logger = StageLogger } }, p => p.ChildOptions.Logger, StageLogger),
        ["Worker.Logger unset: the scope's"] = (o => o, p => p.ChildOptions.Logger, ScopeLogger),
        ["Name: the children's name"] = (o => o with { Name = "parse" }, p => p.ChildOptions.Name, "parse"),
    };

    public static TheoryData<string> SettingNames => [.. Settings.Keys];

    [Theory]
    [MemberData(nameof(SettingNames))]
    public async Task A_setting_given_to_a_stage_reaches_its_pool_and_children_unchanged(string setting)
    {
        var (set, read, expected) = Settings[setting];
        await using var scope = new NurseryScope(new NurseryOptions { Logger = ScopeLogger });

        var stage = scope.Stage<int, int>(Bodies.Double, set(new StageOptions()));

        var pool = Assert.IsType<PoolRunner<int, int>>(stage.Runner).Pool;
        Assert.Equal(expected, read(pool));
        Assert.Empty(stage.ProcessIds);
    }

    [Fact]
    public async Task A_stage_without_a_policy_takes_the_scopes_default_and_its_own_otherwise()
    {
        await using var scope = new NurseryScope(new NurseryOptions { DefaultPolicy = Policy.Skip });
        var own = Policy.Retry(2);

        var defaulted = scope.Stage<int, int>(Bodies.Double);
        var set = scope.Stage<int, int>(Bodies.Double, new StageOptions { Policy = own });

        Assert.Same(Policy.Skip, ((INurseryBlock)defaulted).Policy);
        Assert.Same(own, ((INurseryBlock)set).Policy);
    }

    [Fact]
    public async Task A_bare_pool_logs_nowhere_and_names_its_children_worker_when_neither_is_set()
    {
        await using var pool = new WorkerPool<int, int>(Body.From<int, int>(Bodies.Double), new PoolOptions { StartEagerly = false });

        Assert.Same(NullLogger.Instance, pool.ChildOptions.Logger ?? NullLogger.Instance);
        Assert.Null(pool.ChildOptions.Name);
        Assert.Equal("worker", pool.ChildOptions.NameOrDefault);
        Assert.Empty(pool.ProcessIds);
    }

    /// <summary>A bad value: the options, the setting the error must name, and a word its message must say.</summary>
    private static readonly Dictionary<string, (StageOptions Options, string Setting, string Says)> BadValues = new()
    {
        ["no workers"] = (new StageOptions { Workers = 0 }, "Workers", "between 1 and 4096"),
        ["too many workers"] = (new StageOptions { Workers = 5000 }, "Workers", "between 1 and 4096"),
        ["no items per worker"] = (new StageOptions { ItemsPerWorker = 0 }, "ItemsPerWorker", "between 1 and 65536"),
        ["too many items per worker"] = (new StageOptions { ItemsPerWorker = 65537 }, "ItemsPerWorker", "between 1 and 65536"),
        ["recycle after 0"] = (new StageOptions { RecycleAfter = 0 }, "RecycleAfter", "null to never"),
        ["capacity 0"] = (new StageOptions { BoundedCapacity = 0 }, "BoundedCapacity", "null to follow"),
        ["empty name"] = (new StageOptions { Name = " " }, "Name", "leave it null"),
        ["worker named twice"] = (new StageOptions { Name = "parse", Worker = new() { Name = "parse" } }, "Worker.Name", "set StageOptions.Name"),
        ["negative memory limit"] = (new StageOptions { Worker = new() { MemoryLimit = -1 } }, "MemoryLimit", "Leave it null"),
        ["tiny memory limit"] = (new StageOptions { Worker = new() { MemoryLimit = 1024 } }, "MemoryLimit", "16 MiB"),
        ["zero item timeout"] = (new StageOptions { Worker = new() { ItemTimeout = TimeSpan.Zero } }, "ItemTimeout", "Timeout.InfiniteTimeSpan"),
        ["negative kill grace"] = (new StageOptions { Worker = new() { KillGrace = TimeSpan.FromSeconds(-1) } }, "KillGrace", "zero (kill at once)"),
        ["no restarts window"] = (new StageOptions { RestartIntensity = new(1, TimeSpan.Zero) }, "RestartIntensity", "positive"),
        ["no failed starts"] = (new StageOptions { MaxFailedStartsInARow = 0 }, "MaxFailedStartsInARow", "1 or more"),
        ["no worker options"] = (new StageOptions { Worker = null! }, "Worker", "leave it unset"),
    };

    public static TheoryData<string> BadValueNames => [.. BadValues.Keys];

    [Theory]
    [MemberData(nameof(BadValueNames))]
    public async Task A_bad_value_is_refused_when_the_stage_is_built_naming_the_setting_and_what_to_do(string bad)
    {
        var (options, setting, says) = BadValues[bad];
        await using var scope = new NurseryScope();

        var error = Assert.Throws<ArgumentException>(() => scope.Stage<int, int>(Bodies.Double, options));

        Assert.Equal(setting, error.ParamName);
        Assert.Contains(says, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "JobLog")]
    [InlineData(null, "Resume")]
    public void A_bad_run_setting_is_refused_when_the_scope_is_made_naming_it(string? jobLog, string setting)
    {
        var error = Assert.Throws<ArgumentException>(() => new NurseryScope(new NurseryOptions { JobLog = jobLog, Resume = true }));

        Assert.Equal(setting, error.ParamName);
        Assert.Contains("JobLog", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 1, "Parallelism")]
    [InlineData(1, 0, "BoundedCapacity")]
    public async Task A_bad_sink_setting_is_refused_when_the_sink_is_built_naming_it(int parallelism, int capacity, string setting)
    {
        await using var scope = new NurseryScope();

        var error = Assert.Throws<ArgumentException>(() => scope.Sink<int>(_ => { }, new SinkOptions { Parallelism = parallelism, BoundedCapacity = capacity }));

        Assert.Equal(setting, error.ParamName);
    }

    private sealed class NamedLogger(string name) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => false;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) { }

        public override string ToString() => name;
    }
}
