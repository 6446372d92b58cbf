using Nursery.Tests.Support;

namespace Nursery.Dataflow.Tests.Scenarios;

/// <summary>Helpers shared by the scenario tests: bounded waits and the check that every child is gone.</summary>
internal static class Pipelines
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    public static async Task AssertAllChildrenGoneAsync(params IEnumerable<int>[] pidSets)
    {
        var pids = pidSets.SelectMany(set => set).ToArray();
        Assert.NotEmpty(pids);
        foreach (var pid in pids)
            await Processes.AssertGoneAsync(pid, TimeSpan.FromSeconds(5));
    }

    public static NurseryOptions Quick(Policy? policy = null) => new() { DefaultPolicy = policy ?? Policy.FailFast, KillGrace = TimeSpan.FromMilliseconds(500) };
}
