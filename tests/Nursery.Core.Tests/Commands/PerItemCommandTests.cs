using LanguageExt;
using Nursery.Tests.Support;

namespace Nursery.Tests.Commands;

/// <summary>Programs run once per item, GNU parallel style, as real processes.</summary>
public sealed class PerItemCommandTests
{
    private static readonly TimeSpan Bound = Children.Bound;

    private static PoolOptions Options(TimeSpan? itemTimeout = null, long? memoryLimit = null) =>
        new() { Workers = 2, Worker = Children.Options("cmd") with { ItemTimeout = itemTimeout ?? Timeout.InfiniteTimeSpan, MemoryLimit = memoryLimit } };

    [Fact]
    public async Task Cat_gives_back_the_item_it_read_on_stdin()
    {
        var runner = new PerItemRunner<string, string>(Command.PerItem<string, string>("cat"), Options());
        await using (runner)
        {
            var result = await runner.InvokeAsync("hello nursery", "a").WaitAsync(Bound);

            Assert.Equal("hello nursery", EitherAssert.Right(result));
        }
        await AssertGoneAsync(runner);
    }

    [Fact]
    public async Task Tr_transforms_many_items_two_at_a_time()
    {
        var runner = new PerItemRunner<string, string>(Command.PerItem<string, string>("tr", "a-z", "A-Z"), Options());
        await using (runner)
        {
            var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => runner.InvokeAsync($"item {i}", i.ToString(System.Globalization.CultureInfo.InvariantCulture)))).WaitAsync(Bound);

            Assert.Equal(Enumerable.Range(0, 10).Select(i => $"ITEM {i}"), results.Select(EitherAssert.Right));
            Assert.Equal(10, runner.Spawns);
        }
        await AssertGoneAsync(runner);
    }

    [Fact]
    public async Task The_item_and_its_key_go_into_arguments_without_a_shell()
    {
        var runner = new PerItemRunner<string, string>(Command.PerItem<string, string>("echo", "{key}:", "{}"), Options());
        await using (runner)
        {
            var result = await runner.InvokeAsync("two words; $(rm -rf /) `x`", "k7").WaitAsync(Bound);

            Assert.Equal("k7: two words; $(rm -rf /) `x`", EitherAssert.Right(result));
        }
        await AssertGoneAsync(runner);
    }

    [Fact]
    public async Task Exit_3_is_Crashed_with_the_code_and_stderrs_last_lines()
    {
        var runner = new PerItemRunner<string, string>(Command.PerItem<string, string>("sh", "-c", "echo 'bad input on line 1' >&2; exit 3"), Options());
        await using (runner)
        {
            var failure = EitherAssert.Left<ChildFailure.Crashed, string>(await runner.InvokeAsync("x", "k").WaitAsync(Bound));

            Assert.Equal(3, failure.ExitCode);
            Assert.Contains("bad input on line 1", failure.StderrTail);
            Assert.Equal("k", failure.Key);
        }
        await AssertGoneAsync(runner);
    }

    [Fact]
    public async Task Garbage_where_JSON_was_expected_is_a_ProtocolViolation_not_an_exception()
    {
        var runner = new PerItemRunner<string, int>(Command.PerItem<string, int>("echo", "this is not json"), Options());
        await using (runner)
        {
            var failure = EitherAssert.Left<ChildFailure.ProtocolViolation, int>(await runner.InvokeAsync("x", "k").WaitAsync(Bound));

            Assert.Contains("could not be parsed as Int32", failure.Detail, StringComparison.Ordinal);
            Assert.Contains("this is not json", System.Text.Encoding.ASCII.GetString([.. failure.BytesSeen]), StringComparison.Ordinal);
        }
        await AssertGoneAsync(runner);
    }

    [Fact]
    public async Task JSON_on_stdout_is_parsed_into_the_result_type()
    {
        var runner = new PerItemRunner<string, int[]>(Command.PerItem<string, int[]>("echo", "[1, 2, 3]"), Options());
        await using (runner)
        {
            var result = await runner.InvokeAsync("x", "k").WaitAsync(Bound);

            Assert.Equal([1, 2, 3], EitherAssert.Right(result));
        }
        await AssertGoneAsync(runner);
    }

    [Fact]
    public async Task A_program_past_its_deadline_is_killed_with_the_children_it_started()
    {
        var runner = new PerItemRunner<string, string>(Command.PerItem<string, string>("sh", "-c", "sleep 60 & echo \"sleeper $!\" >&2; wait"), Options(TimeSpan.FromMilliseconds(700)));
        ChildFailure.TimedOut failure;
        await using (runner)
        {
            failure = EitherAssert.Left<ChildFailure.TimedOut, string>(await runner.InvokeAsync("x", "slow").WaitAsync(Bound));

            Assert.Equal(TimeoutKind.ItemDeadline, failure.Limit);
        }
        var sleeper = int.Parse(failure.StderrTail.Single(line => line.StartsWith("sleeper ", StringComparison.Ordinal))["sleeper ".Length..], System.Globalization.CultureInfo.InvariantCulture);
        await Processes.AssertGoneAsync(sleeper, TimeSpan.FromSeconds(5));
        await AssertGoneAsync(runner);
    }

    [Fact]
    public void A_missing_executable_is_refused_when_the_command_is_built()
    {
        var error = Assert.Throws<ArgumentException>(() => Command.PerItem<string, string>("no-such-tool-anywhere", "{}"));

        Assert.Contains("Command.PerItem: the executable 'no-such-tool-anywhere' was not found on the PATH", error.Message, StringComparison.Ordinal);
        Assert.Contains("install it or give its full path", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_executable_path_is_refused_when_the_command_is_built()
    {
        var error = Assert.Throws<ArgumentException>(() => Command.PerItem<string, string>("/nonexistent/tool"));

        Assert.Contains("the executable '/nonexistent/tool' does not exist; check the path", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_executable_gone_after_the_command_was_built_is_StartFailed_with_a_clear_message()
    {
        var runner = new PerItemRunner<string, string>(Command.PerItem<string, string>("cat") with { Executable = "no-such-tool-anywhere" }, Options());
        await using (runner)
        {
            var failure = EitherAssert.Left<ChildFailure.StartFailed, string>(await runner.InvokeAsync("x", "k").WaitAsync(Bound));

            Assert.Contains("'no-such-tool-anywhere' was not found on the PATH", failure.Reason, StringComparison.Ordinal);
            Assert.Equal(0, runner.Spawns);
        }
    }

    [MemoryCgroupFact]
    public async Task A_program_past_its_memory_limit_is_OutOfMemory()
    {
        var runner = new PerItemRunner<string, string>(Command.PerItem<string, string>("python3", "-c", "b = b'x' * (512 << 20)"), Options(memoryLimit: 64L << 20));
        await using (runner)
        {
            var failure = EitherAssert.Left<ChildFailure.OutOfMemory, string>(await runner.InvokeAsync("x", "big").WaitAsync(Bound));

            Assert.Equal(64L << 20, failure.LimitBytes);
        }
        await AssertGoneAsync(runner);
    }

    [Fact]
    public async Task Cancelling_an_item_kills_its_process()
    {
        var runner = new PerItemRunner<string, string>(Command.PerItem<string, string>("sleep", "60"), Options());
        await using (runner)
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

            var failure = EitherAssert.Left<ChildFailure.Cancelled, string>(await runner.InvokeAsync("x", "k", cancellationToken: cancel.Token).WaitAsync(Bound));

            Assert.True(failure.ItemStarted);
        }
        await AssertGoneAsync(runner);
    }

    [Fact]
    public async Task The_program_sees_the_locale_variables_it_would_have_without_the_wrappers()
    {
        var inherited = Environment.GetEnvironmentVariable("LC_ALL");
        var runner = new PerItemRunner<string, string>(Command.PerItem<string, string>("sh", "-c", "printf '%s|%s' \"${LC_ALL-none}\" \"${LANG-none}\""), Options());
        var chosen = new PerItemRunner<string, string>(
            Command.PerItem<string, string>("sh", "-c", "printf '%s' \"${LC_ALL-none}\"").WithEnvironment(new Dictionary<string, string> { ["LC_ALL"] = "POSIX" }),
            Options()
        );
        await using (runner)
        await using (chosen)
        {
            var seen = EitherAssert.Right(await runner.InvokeAsync("x", "k").WaitAsync(Bound));
            var set = EitherAssert.Right(await chosen.InvokeAsync("x", "k").WaitAsync(Bound));

            Assert.Equal($"{inherited ?? "none"}|{Environment.GetEnvironmentVariable("LANG") ?? "none"}", seen);
            Assert.Equal("POSIX", set);
        }
        await AssertGoneAsync(runner);
        await AssertGoneAsync(chosen);
    }

    private static async Task AssertGoneAsync<TIn, TOut>(PerItemRunner<TIn, TOut> runner)
    {
        foreach (var pid in runner.ProcessIds)
            await Processes.AssertGoneAsync(pid, TimeSpan.FromSeconds(5));
    }
}
