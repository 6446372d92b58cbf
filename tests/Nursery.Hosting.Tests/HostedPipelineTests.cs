using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Nursery.TestBodies;
using Nursery.Tests.Support;

namespace Nursery.Hosting.Tests;

/// <summary>A pipeline run as a hosted service, configured from a configuration section, stopped with its host.</summary>
public sealed class HostedPipelineTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Stopping_the_host_mid_run_aborts_the_pipeline_and_leaves_no_child()
    {
        var mark = Guid.NewGuid().ToString("N");
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Nursery:DrainTimeout"] = "00:00:05",
            ["Nursery:Stages:slow:Workers"] = "3",
        });
        builder.Services.AddNursery(builder.Configuration.GetSection("Nursery")).AddPipeline("endless", (context, token) =>
        {
            var options = context.StageOptions("slow", new StageOptions { Worker = new WorkerOptions { Environment = new Dictionary<string, string> { ["NURSERY_HOSTING_TEST"] = mark } } });
            var stage = context.Scope.Stage<int, int>(TracedBodies.Slow, options);
            var sink = context.Scope.Sink<int>(_ => { });
            stage.LinkTo(sink);
            return context.Scope.RunAsync(Enumerable.Range(0, 1_000_000), stage, cancellationToken: token);
        });
        using var host = builder.Build();
        var results = host.Services.GetRequiredService<NurseryPipelineResults>();

        await host.StartAsync().WaitAsync(Bound);
        var running = await ChildrenAsync(mark, atLeast: 3);
        await host.StopAsync().WaitAsync(Bound);
        var result = await results.WhenEnded("endless").WaitAsync(Bound);

        Assert.Equal(3, running.Count);
        Assert.NotNull(result);
        Assert.True(result.Aborted, result.ToString());
        Assert.True(result.IsBalanced, result.ToString());
        Assert.Empty(Processes.Marked("NURSERY_HOSTING_TEST", mark));
        await Processes.AssertAllGoneAsync(running);
    }

    [Fact]
    public async Task A_bad_policy_in_configuration_fails_the_pipeline_with_a_message_naming_the_setting()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Nursery:DefaultPolicy"] = "Sometimes" });
        builder.Services.AddNursery(builder.Configuration.GetSection("Nursery")).AddPipeline("misconfigured", (context, token) => context.Scope.RunAsync(Enumerable.Range(0, 1), context.Scope.Stage<int, int>(TracedBodies.Slow), cancellationToken: token));
        builder.Services.Configure<HostOptions>(options => options.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.Ignore);
        using var host = builder.Build();
        var results = host.Services.GetRequiredService<NurseryPipelineResults>();
        var hosted = host.Services.GetServices<IHostedService>().OfType<BackgroundService>().Single();

        await host.StartAsync().WaitAsync(Bound);
        var result = await results.WhenEnded("misconfigured").WaitAsync(Bound);
        var thrown = await Assert.ThrowsAsync<ArgumentException>(() => hosted.ExecuteTask!.WaitAsync(Bound));
        await host.StopAsync().WaitAsync(Bound);

        Assert.Null(result);
        Assert.Contains("Nursery:DefaultPolicy is 'Sometimes'", thrown.Message, StringComparison.Ordinal);
        Environment.ExitCode = 0;
    }

    /// <summary>
    /// The live children of this process that carry the test's mark, once there are at least <paramref name="atLeast"/>
    /// of them. Only direct children: each child host spawns its group keeper, which until its exec shares the host's
    /// memory and so shows the host's environment, mark included, for a moment.
    /// </summary>
    private static async Task<IReadOnlyList<int>> ChildrenAsync(string mark, int atLeast)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (true)
        {
            var found = Processes.Marked("NURSERY_HOSTING_TEST", mark).Where(pid => Processes.ParentOf(pid) == Environment.ProcessId).ToList();
            if (found.Count >= atLeast || DateTime.UtcNow > deadline)
                return found;
            await Task.Delay(100);
        }
    }
}
