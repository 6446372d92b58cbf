using System.Collections.Concurrent;
using Nursery.TestBodies;
using Nursery.Tests.Support;

namespace Nursery.Dataflow.Tests.Scenarios;

/// <summary>
/// Nulls, which cannot cross to a child: a null input is that item's failure (naming its key) under the entry's
/// policy, a body's null result is that item's failure in its stage and never reaches the next stage, and a key that
/// cannot be made aborts the run naming the item. The books balance in every case.
/// </summary>
public sealed class NullInputTests
{
    private static readonly TimeSpan Bound = Pipelines.Bound;

    private static readonly string[] WithANull = ["a", null!, "c", "d"];

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_null_input_becomes_that_items_failure_and_the_others_go_on_under_skip(bool asynchronous)
    {
        var delivered = new ConcurrentQueue<string>();
        await using var scope = new NurseryScope(Pipelines.Quick(Policy.Skip));
        var echo = scope.Stage<string, string>(Bodies.Echo, new StageOptions { Name = "echo", Workers = 1 });
        var sink = scope.Sink<string>(delivered.Enqueue);
        echo.LinkTo(sink);

        var result = await (asynchronous ? scope.RunAsync(Async(WithANull), echo) : scope.RunAsync(WithANull, echo)).WaitAsync(Bound);

        Assert.True(result.Completed, result.ToString());
        Assert.Equal(4, result.Inputs);
        Assert.Equal(3, result.Succeeded);
        Assert.True(result.IsBalanced, result.ToString());
        var failure = Assert.IsType<ChildFailure.Faulted>(Assert.Single(result.Failures));
        Assert.Equal("1", failure.Key);
        Assert.Equal("echo", failure.Stage);
        Assert.Equal("Nursery.NullInput", failure.Error.Type);
        Assert.Contains("null", failure.Summary, StringComparison.Ordinal);
        Assert.Equal(["a", "c", "d"], delivered.Order(StringComparer.Ordinal));
        await Processes.AssertAllGoneAsync(echo.ProcessIds);
    }

    [Fact]
    public async Task A_null_input_aborts_a_fail_fast_run_blaming_that_item()
    {
        await using var scope = new NurseryScope(Pipelines.Quick());
        var echo = scope.Stage<string, string>(Bodies.Echo, new StageOptions { Name = "echo", Workers = 1 });
        var sink = scope.Sink<string>(_ => { });
        echo.LinkTo(sink);

        var result = await scope.RunAsync(WithANull, echo).WaitAsync(Bound);

        Assert.True(result.Aborted);
        Assert.Equal(AbortCause.Failure, result.AbortCause);
        var first = Assert.IsType<ChildFailure.Faulted>(result.FirstFailure.Case);
        Assert.Equal("1", first.Key);
        Assert.Equal("Nursery.NullInput", first.Error.Type);
        Assert.Contains("item 1", result.AbortReason, StringComparison.Ordinal);
        Assert.True(result.IsBalanced, result.ToString());
        Assert.DoesNotContain(result.Failures, failure => failure.Key != "1" && failure is not ChildFailure.Cancelled);
        await AssertStartedChildrenGoneAsync(echo.ProcessIds);
    }

    [Fact]
    public async Task A_null_input_is_not_retried_and_ends_as_the_retry_policy_then_says()
    {
        await using var scope = new NurseryScope(Pipelines.Quick());
        var echo = scope.Stage<string, string>(Bodies.Echo, new StageOptions { Name = "echo", Workers = 1, Policy = Policy.Retry(3).AlsoOnFaulted().ThenSkip() });
        var sink = scope.Sink<string>(_ => { });
        echo.LinkTo(sink);

        var result = await scope.RunAsync(WithANull, echo).WaitAsync(Bound);

        Assert.True(result.Completed, result.ToString());
        Assert.Equal(3, result.Succeeded);
        Assert.Equal(1, result.CountsByKind[FailureKind.Faulted]);
        Assert.True(result.IsBalanced, result.ToString());
        Assert.DoesNotContain(result.Records, record => record.Key == "1");
        await Processes.AssertAllGoneAsync(echo.ProcessIds);
    }

    [Fact]
    public async Task A_null_input_is_named_by_the_key_function_when_it_takes_a_null_and_by_its_index_when_it_throws()
    {
        await using var scope = new NurseryScope(Pipelines.Quick(Policy.Skip));
        var echo = scope.Stage<string, string>(Bodies.Echo, new StageOptions { Workers = 1 });
        var sink = scope.Sink<string>(_ => { });
        echo.LinkTo(sink);
        string[] source = ["a", null!, "c", null!];
        var calls = 0;

        // The first null gets a key from the function; the second makes it throw, as a key function that never expected a null would.
        var result = await scope.RunAsync(source, echo, key: text => text ?? (Interlocked.Increment(ref calls) == 1 ? "missing" : throw new ArgumentNullException(nameof(text)))).WaitAsync(Bound);

        Assert.True(result.Completed, result.ToString());
        Assert.Equal(["3", "missing"], result.Failures.Select(failure => failure.Key).Order(StringComparer.Ordinal));
        Assert.All(result.Failures, failure => Assert.Equal("Nursery.NullInput", Assert.IsType<ChildFailure.Faulted>(failure).Error.Type));
        Assert.True(result.IsBalanced, result.ToString());
        await Processes.AssertAllGoneAsync(echo.ProcessIds);
    }

    [Theory]
    [InlineData("throws")]
    [InlineData("returns null")]
    public async Task A_key_function_that_fails_on_a_value_aborts_the_run_naming_the_items_index(string how)
    {
        await using var scope = new NurseryScope(Pipelines.Quick(Policy.Skip));
        var echo = scope.Stage<string, string>(Bodies.Echo, new StageOptions { Workers = 1 });
        var sink = scope.Sink<string>(_ => { });
        echo.LinkTo(sink);
        Func<string, string> key = how == "throws" ? text => text == "c" ? throw new FormatException("no key for c") : text : text => text == "c" ? null! : text;

        var result = await scope.RunAsync(["a", "b", "c", "d"], echo, key).WaitAsync(Bound);

        Assert.True(result.Aborted);
        Assert.Equal(AbortCause.BlockFaulted, result.AbortCause);
        Assert.Contains("key function", result.AbortReason, StringComparison.Ordinal);
        Assert.Contains("index 2", result.AbortReason, StringComparison.Ordinal);
        var first = Assert.IsType<ChildFailure.Faulted>(result.FirstFailure.Case);
        Assert.Equal("2", first.Key);
        Assert.Equal(how == "throws" ? "System.FormatException" : "System.InvalidOperationException", first.Error.Type);
        Assert.True(result.IsBalanced, result.ToString());
        Assert.Equal(3, result.Inputs);
        await AssertStartedChildrenGoneAsync(echo.ProcessIds);
    }

    [Theory]
    [InlineData("skip")]
    [InlineData("fail-fast")]
    public async Task A_body_that_returns_null_fails_that_item_in_its_stage_and_the_next_stage_never_sees_a_null(string policyName)
    {
        var delivered = new ConcurrentQueue<string>();
        await using var scope = new NurseryScope(Pipelines.Quick(policyName == "skip" ? Policy.Skip : Policy.FailFast));
        var produce = scope.Stage<int, string>(BinaryBodies.ReturnsNull, new StageOptions { Name = "produce", Workers = 1 });
        var echo = scope.Stage<string, string>(Bodies.Echo, new StageOptions { Name = "echo", Workers = 1 });
        var sink = scope.Sink<string>(delivered.Enqueue);
        produce.LinkTo(echo);
        echo.LinkTo(sink);

        var result = await scope.RunAsync(Enumerable.Range(0, 5), produce).WaitAsync(Bound);

        Assert.True(result.IsBalanced, result.ToString());
        Assert.Equal(5, result.Inputs);
        Assert.Equal(0, result.Succeeded);
        Assert.Empty(delivered);
        Assert.DoesNotContain(result.Records, record => record.Stage == "echo");
        var first = Assert.IsType<ChildFailure.Faulted>(result.FirstFailure.Case);
        Assert.Equal("produce", first.Stage);
        Assert.Equal("Nursery.NullResult", first.Error.Type);
        if (policyName == "skip")
        {
            Assert.True(result.Completed, result.ToString());
            Assert.Equal(["0", "1", "2", "3", "4"], result.Failures.Select(failure => failure.Key).Order(StringComparer.Ordinal));
            Assert.All(result.Failures, failure => Assert.Equal("Nursery.NullResult", Assert.IsType<ChildFailure.Faulted>(failure).Error.Type));
        }
        else
        {
            Assert.Equal(AbortCause.Failure, result.AbortCause);
            Assert.Contains($"item {first.Key} in produce", result.AbortReason, StringComparison.Ordinal);
        }
        await Processes.AssertAllGoneAsync(produce.ProcessIds);
    }

    /// <summary>The run may abort before the stage has started a child: whatever it started is gone.</summary>
    private static async Task AssertStartedChildrenGoneAsync(IEnumerable<int> pids)
    {
        foreach (var pid in pids)
            await Processes.AssertGoneAsync(pid, TimeSpan.FromSeconds(5));
    }

    private static async IAsyncEnumerable<string> Async(IEnumerable<string> items)
    {
        foreach (var item in items)
        {
            await Task.Yield();
            yield return item;
        }
    }
}
