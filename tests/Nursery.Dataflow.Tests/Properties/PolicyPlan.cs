namespace Nursery.Dataflow.Tests.Properties;

/// <summary>The run's policy, by name so a failing plan prints it.</summary>
public enum PolicyPlan
{
    FailFast,
    Skip,
    RetryThenFailFast,
    RetryThenSkip,
    RetryAlsoOnFaultedThenSkip,
}
