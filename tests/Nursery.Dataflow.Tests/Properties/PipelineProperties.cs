using Xunit.Abstractions;

namespace Nursery.Dataflow.Tests.Properties;

/// <summary>
/// A pipeline that cannot hang: random pipelines with random per-item faults (throw, exit, SIGKILL, OOM,
/// sleep forever, SIGSTOP, random garbage on the protocol channel, slow, transient faults that pass on a retry, a
/// throwing sink, a failing initializer) in .NET, per-item <c>sh</c> and persistent Python stages, under random
/// policies, deadlines and caller cancellations, run with real children. Every case of every property also checks the
/// promise (<see cref="PlannedRun.AssertThePromise"/>): RunAsync returns, no process of the run outlives the scope (found
/// in /proc by the run's environment variable, not from the library's pids) and the result balances.
/// </summary>
/// <remarks>
/// <para>
/// A failing case prints its plan and FsCheck prints the seed: replay it with NURSERY_PROPERTY_REPLAY="(seed,gamma)"
/// (the plans are the same; the children's timing may differ). NURSERY_PROPERTY_CASES sets the cases per property for
/// a soak run.
/// </para>
/// <para>
/// The plans have grandchildren (a body, an <c>sh</c> or a Python worker that starts a <c>sleep 300</c>): the no-orphan
/// check covers what the children started. <see cref="PlanGenerators.GrandchildrenVariable"/>=0 leaves them out.
/// </para>
/// <para>
/// Each property is its own class, so xunit runs them in parallel with each other and with the other tests (their
/// children mostly wait). Each has one method per plan family (<see cref="DotnetPlans"/>, <see cref="RetriedPlans"/>,
/// <see cref="CommandPlans"/>, <see cref="StoppedPlans"/>).
/// </para>
/// </remarks>
public static class PipelineProperties
{
    /// <summary>
    /// Cases per property method in CI: 4 properties × 4 plan families × 48 = 768. One method's cases are one xunit test,
    /// which must end well within CI's 3-minute --blame-hang-timeout on a loaded 2-core machine; a soak run with
    /// NURSERY_PROPERTY_CASES needs a longer one.
    /// </summary>
    public const int Cases = 48;

    /// <summary>Says in the test output what this machine leaves out of the plans, and which optional parts are on.</summary>
    public static void Note(ITestOutputHelper output)
    {
        if (MemoryLimits.Unavailable.Case is string reason)
            output.WriteLine($"OOM faults are left out of the plans: memory limits cannot be enforced here ({reason}).");
        output.WriteLine(PlanGenerators.Grandchildren
            ? "Grandchildren are in the plans."
            : $"Grandchildren are left out of the plans ({PlanGenerators.GrandchildrenVariable}=0).");
    }
}
