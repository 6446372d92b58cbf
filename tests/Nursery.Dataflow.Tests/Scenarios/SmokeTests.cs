using Nursery.TestBodies;
using Nursery.Tests.Support;

namespace Nursery.Dataflow.Tests.Scenarios;

public sealed class SmokeTests
{
    [Fact]
    public async Task Two_stages_and_a_sink_process_every_item()
    {
        var seen = new System.Collections.Concurrent.ConcurrentBag<int>();
        await using var scope = new NurseryScope();
        var first = scope.Stage<int, int>(Bodies.Double, new StageOptions { Workers = 2 });
        var second = scope.Stage<int, int>(x => x + 1, new StageOptions { Workers = 2 });
        var sink = scope.Sink<int>(seen.Add);
        first.LinkTo(second);
        second.LinkTo(sink);

        var result = await scope.RunAsync(Enumerable.Range(0, 1000), first).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(result.Completed, result.ToString());
        Assert.Equal(1000, result.Inputs);
        Assert.Equal(1000, result.Succeeded);
        Assert.True(result.IsBalanced);
        Assert.Equal(Enumerable.Range(0, 1000).Select(x => (x * 2) + 1).Order(), seen.Order());
        foreach (var pid in first.ProcessIds.Concat(second.ProcessIds))
            await Processes.AssertGoneAsync(pid, TimeSpan.FromSeconds(5));
    }
}
