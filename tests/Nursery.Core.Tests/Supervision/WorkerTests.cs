using LanguageExt;
using Nursery.TestBodies;
using Nursery.Tests.Support;

namespace Nursery.Tests.Supervision;

/// <summary>One test per way a child can end, each with a real child process.</summary>
public sealed class WorkerTests
{
    private static readonly TimeSpan Bound = Children.Bound;

    [Fact]
    public async Task A_body_that_returns_gives_its_result()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.Double));

        var result = await worker.InvokeAsync(21, "a").WaitAsync(Bound);

        Assert.Equal(42, EitherAssert.Right(result));
        Assert.NotEqual(Environment.ProcessId, worker.ProcessId);
    }

    [Fact]
    public async Task The_child_host_grows_its_stdin_and_protocol_pipes_so_a_batch_of_large_items_crosses_in_few_writes()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<string, string>(Bodies.Echo));
        var payload = new string('x', 10 * 1024);
        EitherAssert.Right(await worker.InvokeAsync(payload).WaitAsync(Bound));

        var pipes = Processes.Pipes(worker.ProcessId);
        // fd 1 was pointed at stderr; the protocol's stdout lives on a private descriptor of its own (>= 3): the one pipe
        // besides stdin and stderr whose other end this process holds (on one descriptor or more). Not the runtime's own
        // pipes (only in the child), nor the test runner's, which every descendant inherits at the same numbers.
        var ours = Processes.Pipes(Environment.ProcessId);
        var protocol = pipes
            .Where(pipe => pipe.Key >= 3 && ours.Values.Contains(pipe.Value) && ours.GetValueOrDefault(pipe.Key) != pipe.Value && pipe.Value != pipes[2] && pipe.Value != pipes[0])
            .GroupBy(pipe => pipe.Value, pipe => pipe.Key)
            .ToList();
        var expected = Math.Min(1 << 20, int.Parse(File.ReadAllText("/proc/sys/fs/pipe-max-size").Trim(), System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(expected, Processes.PipeCapacity(worker.ProcessId, 0));
        Assert.Single(protocol);
        Assert.Equal(expected, Processes.PipeCapacity(worker.ProcessId, protocol[0].First()));
        // stderr is the user's, not the protocol's: left at the kernel's default.
        Assert.True(Processes.PipeCapacity(worker.ProcessId, 2) < expected);
    }

    [Fact]
    public async Task A_lambda_that_captures_nothing_runs_in_the_child()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(x => x + 100));

        var result = await worker.InvokeAsync(1).WaitAsync(Bound);

        Assert.Equal(101, EitherAssert.Right(result));
    }

    [Fact]
    public async Task An_async_body_is_awaited_in_the_child()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.FromAsync<int, int>(Bodies.DoubleAsync));

        var result = await worker.InvokeAsync(5).WaitAsync(Bound);

        Assert.Equal(10, EitherAssert.Right(result));
    }

    [Fact]
    public async Task An_async_body_that_throws_after_an_await_gives_Faulted_and_its_child_goes_on_with_the_next_item()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.FromAsync<int, int>(Bodies.DoubleAsyncOrThrow));

        var failure = EitherAssert.Left<ChildFailure.Faulted, int>(await worker.InvokeAsync(-3).WaitAsync(Bound));
        var next = await worker.InvokeAsync(4).WaitAsync(Bound);

        Assert.Equal("System.InvalidOperationException", failure.Error.Type);
        Assert.Equal("async item -3 is bad", failure.Error.Message);
        Assert.Contains("DoubleAsyncOrThrow", failure.Error.StackTrace, StringComparison.Ordinal);
        Assert.Equal(8, EitherAssert.Right(next));
        Assert.Equal(worker.ProcessId, failure.ProcessId);
        Assert.True(worker.IsAlive, "a throwing async body must not take its child down");
    }

    [Fact]
    public async Task Records_with_lists_travel_both_ways()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<string, Order>(Bodies.Parse));

        var order = EitherAssert.Right(await worker.InvokeAsync("A7,3,red,big").WaitAsync(Bound));

        Assert.Equal("A7", order.Id);
        Assert.Equal(3, order.Quantity);
        Assert.Equal(["red", "big"], order.Tags);
    }

    [Fact]
    public async Task A_body_that_throws_gives_Faulted_with_the_remote_type_message_and_line()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.Throw), Children.Options("parse"));

        var failure = EitherAssert.Left<ChildFailure.Faulted, int>(await worker.InvokeAsync(7, "item-7").WaitAsync(Bound));

        Assert.Equal("System.InvalidOperationException", failure.Error.Type);
        Assert.Equal("item 7 is bad", failure.Error.Message);
        Assert.Contains("Bodies.Throw", failure.Error.StackTrace, StringComparison.Ordinal);
        Assert.Matches(@"Bodies\.cs:line \d+", failure.Error.StackTrace);
        Assert.Equal("parse", failure.Stage);
        Assert.Equal("item-7", failure.Key);
        Assert.Equal(worker.ProcessId, failure.ProcessId);
        Assert.Contains("item 7 is bad", failure.ToString(), StringComparison.Ordinal);
        Assert.True(worker.IsAlive, "a throwing body must not take its child down");
        Assert.Equal(4, EitherAssert.Right(await Worker.StartAsync(Body.From<int, int>(Bodies.Double)).WaitAsync(Bound).Bind(async started =>
        {
            var other = EitherAssert.Right(started);
            children.Track(other.ProcessId);
            await using (other)
                return await other.InvokeAsync(2).WaitAsync(Bound);
        })));
    }

    [Fact]
    public async Task Environment_Exit_3_gives_Crashed_with_exit_code_3()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.Exit3));

        var failure = EitherAssert.Left<ChildFailure.Crashed, int>(await worker.InvokeAsync(1, "x").WaitAsync(Bound));

        Assert.Equal(3, failure.ExitCode);
        Assert.True(failure.Signal.IsNone);
        Assert.Equal("x", failure.Key);
        await Processes.AssertGoneAsync(worker.ProcessId, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_child_that_dies_leaving_a_background_process_holding_its_stderr_is_still_reported_and_the_process_killed()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.SpawnSleeperThenExit));

        var failure = EitherAssert.Left<ChildFailure.Crashed, int>(await worker.InvokeAsync(1, "bg").WaitAsync(Bound));

        Assert.Equal(3, failure.ExitCode);
        var line = Assert.Single(failure.StderrTail, text => text.StartsWith("sleeper ", StringComparison.Ordinal));
        var sleeper = int.Parse(line["sleeper ".Length..], System.Globalization.CultureInfo.InvariantCulture);
        children.Track(sleeper);
        Assert.Equal("bg", failure.Key);
        await Processes.AssertGoneAsync(sleeper, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_stack_overflow_gives_Crashed_with_the_runtime_message_in_stderr()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.StackOverflow));

        var failure = EitherAssert.Left<ChildFailure.Crashed, int>(await worker.InvokeAsync(1).WaitAsync(Bound));

        Assert.Equal(Option<int>.Some(6), failure.Signal);
        Assert.Contains(failure.StderrTail, line => line.Contains("Stack overflow", StringComparison.OrdinalIgnoreCase) || line.Contains("Recurse", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Environment_FailFast_gives_Crashed_with_its_message()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.FailFast));

        var failure = EitherAssert.Left<ChildFailure.Crashed, int>(await worker.InvokeAsync(9).WaitAsync(Bound));

        Assert.Equal(Option<int>.Some(6), failure.Signal);
        Assert.Contains(failure.StderrTail, line => line.Contains("failing fast on item 9", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_child_killed_with_kill_9_from_outside_gives_Crashed_with_signal_9()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.SleepMilliseconds));
        var running = worker.InvokeAsync(60_000, "slow");
        await Task.Delay(200);

        Processes.Signal(worker.ProcessId, Processes.SigKill);
        var failure = EitherAssert.Left<ChildFailure.Crashed, int>(await running.WaitAsync(Bound));

        Assert.Equal(Option<int>.Some(9), failure.Signal);
        Assert.Equal("slow", failure.Key);
        Assert.Contains("possibly out of memory", failure.Note, StringComparison.Ordinal);
        Assert.False(worker.IsAlive);
    }

    [Fact]
    public async Task Items_queued_behind_a_crash_are_Cancelled_as_not_started()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.Exit3));

        var first = worker.InvokeAsync(1, "first");
        var second = worker.InvokeAsync(2, "second");
        var third = worker.InvokeAsync(3, "third");
        var results = await Task.WhenAll(first, second, third).WaitAsync(Bound);

        EitherAssert.Left<ChildFailure.Crashed, int>(results[0]);
        var notStarted = EitherAssert.Left<ChildFailure.Cancelled, int>(results[1]);
        Assert.False(notStarted.ItemStarted);
        Assert.True(notStarted.Cause.IsSome);
        Assert.False(EitherAssert.Left<ChildFailure.Cancelled, int>(results[2]).ItemStarted);
        var afterwards = EitherAssert.Left<ChildFailure.Cancelled, int>(await worker.InvokeAsync(4, "later").WaitAsync(Bound));
        Assert.False(afterwards.ItemStarted);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_crash_is_blamed_on_the_item_that_was_running_not_on_finished_items_whose_replies_were_held(bool batchReplies)
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.ExitOnNegative), Children.Options() with { BatchReplies = batchReplies });

        var before = Enumerable.Range(1, 200).Select(i => worker.InvokeAsync(i, $"b{i}")).ToArray();
        var dies = worker.InvokeAsync(-1, "dies");
        var after = Enumerable.Range(1, 20).Select(i => worker.InvokeAsync(i, $"a{i}")).ToArray();
        var crashed = EitherAssert.Left<ChildFailure.Crashed, int>(await dies.WaitAsync(Bound));
        var finished = await Task.WhenAll(before).WaitAsync(Bound);
        var notStarted = await Task.WhenAll(after).WaitAsync(Bound);

        Assert.Equal("dies", crashed.Key);
        Assert.Equal(3, crashed.ExitCode);
        // Every earlier item finished in the child: its result arrived, or (replies held in a batch) it comes back not started, to run again.
        for (var i = 0; i < finished.Length; i++)
        {
            finished[i].Match(
                value => Assert.Equal(i + 1, value),
                failure => Assert.True(batchReplies && failure is ChildFailure.Cancelled { ItemStarted: false }, $"item b{i + 1}: {failure}")
            );
        }
        Assert.All(notStarted, result => Assert.False(EitherAssert.Left<ChildFailure.Cancelled, int>(result).ItemStarted));
    }

    [Fact]
    public async Task A_hang_after_fast_items_is_TimedOut_on_the_hung_item_only()
    {
        await using var children = new Children();
        var options = Children.Options() with { ItemTimeout = TimeSpan.FromSeconds(1) };
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.HangOnNegative), options);

        var before = Enumerable.Range(1, 200).Select(i => worker.InvokeAsync(i, $"b{i}")).ToArray();
        var hangs = worker.InvokeAsync(-1, "hangs");
        var timedOut = EitherAssert.Left<ChildFailure.TimedOut, int>(await hangs.WaitAsync(Bound));
        var finished = await Task.WhenAll(before).WaitAsync(Bound);

        Assert.Equal("hangs", timedOut.Key);
        Assert.Equal(TimeoutKind.ItemDeadline, timedOut.Limit);
        for (var i = 0; i < finished.Length; i++)
        {
            finished[i].Match(
                value => Assert.Equal(i + 1, value),
                failure => Assert.True(failure is ChildFailure.Cancelled { ItemStarted: false }, $"item b{i + 1}: {failure}")
            );
        }
        await Processes.AssertGoneAsync(worker.ProcessId, TimeSpan.FromSeconds(5));
    }

    [MemoryCgroupFact]
    public async Task A_child_past_its_memory_limit_is_reported_as_OutOfMemory()
    {
        await using var children = new Children();
        var options = Children.Options("convert") with { MemoryLimit = 64L << 20 };
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.Allocate), options);

        var failure = EitherAssert.Left<ChildFailure.OutOfMemory, int>(await worker.InvokeAsync(512, "big").WaitAsync(Bound));

        Assert.Equal(64L << 20, failure.LimitBytes);
        Assert.Equal("big", failure.Key);
        Assert.Contains("OOM killer", failure.ToString(), StringComparison.Ordinal);
    }

    [MemoryCgroupFact]
    public async Task A_plain_kill_under_a_memory_limit_is_not_mistaken_for_OutOfMemory()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.SleepMilliseconds), Children.Options() with { MemoryLimit = 256L << 20 });
        var running = worker.InvokeAsync(60_000);
        await Task.Delay(200);

        Processes.Signal(worker.ProcessId, Processes.SigKill);
        var failure = EitherAssert.Left<ChildFailure.Crashed, int>(await running.WaitAsync(Bound));

        Assert.Equal(Option<int>.Some(9), failure.Signal);
        Assert.DoesNotContain("possibly out of memory", failure.Note, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_item_past_its_deadline_is_TimedOut_and_its_child_is_killed()
    {
        await using var children = new Children();
        var options = Children.Options() with { ItemTimeout = TimeSpan.FromMilliseconds(500) };
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.SleepForever), options);

        var failure = EitherAssert.Left<ChildFailure.TimedOut, int>(await worker.InvokeAsync(1, "hang").WaitAsync(Bound));

        Assert.Equal(TimeoutKind.ItemDeadline, failure.Limit);
        Assert.Equal(TimeSpan.FromMilliseconds(500), failure.LimitValue);
        Assert.True(failure.Elapsed >= TimeSpan.FromMilliseconds(500));
        await Processes.AssertGoneAsync(worker.ProcessId, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_stopped_child_is_TimedOut_by_its_missing_heartbeats()
    {
        await using var children = new Children();
        var options = Children.Options() with { HeartbeatInterval = TimeSpan.FromMilliseconds(100), HeartbeatTimeout = TimeSpan.FromSeconds(1.5) };
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.SleepMilliseconds), options);
        var running = worker.InvokeAsync(60_000, "stopped");
        await Task.Delay(100);

        Processes.Signal(worker.ProcessId, Processes.SigStop);
        var failure = EitherAssert.Left<ChildFailure.TimedOut, int>(await running.WaitAsync(Bound));

        Assert.Equal(TimeoutKind.Heartbeat, failure.Limit);
        await Processes.AssertGoneAsync(worker.ProcessId, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Garbage_on_the_protocol_channel_is_a_ProtocolViolation_with_the_bytes_seen()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.Garbage));

        var failure = EitherAssert.Left<ChildFailure.ProtocolViolation, int>(await worker.InvokeAsync(1, "noisy").WaitAsync(Bound));

        Assert.Contains("hello from", System.Text.Encoding.ASCII.GetString([.. failure.BytesSeen]), StringComparison.Ordinal);
        Assert.Contains("hello from a stray", failure.ToString(), StringComparison.Ordinal);
        await Processes.AssertGoneAsync(worker.ProcessId, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task The_protocol_descriptor_is_named_in_the_environment_native_code_reads()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.NativeGarbage));

        var failure = EitherAssert.Left<ChildFailure.ProtocolViolation, int>(await worker.InvokeAsync(1, "native").WaitAsync(Bound));

        Assert.Contains("hello from a native print", System.Text.Encoding.ASCII.GetString([.. failure.BytesSeen]), StringComparison.Ordinal);
        await Processes.AssertGoneAsync(worker.ProcessId, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_well_formed_reply_for_an_item_never_sent_is_a_ProtocolViolation_and_the_child_is_killed()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.ForgedReply));

        var failure = EitherAssert.Left<ChildFailure.ProtocolViolation, int>(await worker.InvokeAsync(1, "forged").WaitAsync(Bound));

        Assert.Contains($"item id {Bodies.ForgedId}, which it was not given", failure.ToString(), StringComparison.Ordinal);
        await Processes.AssertGoneAsync(worker.ProcessId, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Printing_to_stdout_in_any_way_goes_to_stderr_and_cannot_corrupt_the_protocol()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.Noisy));

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => worker.InvokeAsync(i))).WaitAsync(Bound);

        Assert.Equal(Enumerable.Range(1, 20), results.Select(EitherAssert.Right));
        Assert.True(worker.IsAlive);
    }

    [Fact]
    public async Task An_initializer_that_throws_gives_StartFailed_with_its_exception_and_no_process_left()
    {
        await using var children = new Children();
        var body = Body.From<int, int>(Bodies.Double).WithInitializer(Bodies.FailingInitializer);

        var started = await children.TryStartAsync(body);

        var failure = started.Match(_ => throw new Xunit.Sdk.XunitException("the worker started"), f => f as ChildFailure.StartFailed ?? throw new Xunit.Sdk.XunitException(f.ToString()));
        var remote = failure.Remote.Match(r => r, () => throw new Xunit.Sdk.XunitException("no remote error"));
        Assert.Equal("System.InvalidOperationException", remote.Type);
        Assert.Contains("initializer", failure.Reason, StringComparison.Ordinal);
        Assert.Contains("not reachable from the initializer", failure.ToString(), StringComparison.Ordinal);
        Assert.True(failure.ProcessId > 0);
    }

    [Fact]
    public async Task An_initializer_gets_its_state_before_the_first_item()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.Multiply).WithInitializer<int>(Bodies.SetFactor, 7));

        var result = await worker.InvokeAsync(6).WaitAsync(Bound);

        Assert.Equal(42, EitherAssert.Right(result));
    }

    [Fact]
    public async Task A_missing_assembly_gives_StartFailed_naming_the_path()
    {
        await using var children = new Children();
        var method = new Nursery.Protocol.MethodSpec("/nonexistent/Bodies.dll", "Nursery.TestBodies.Bodies", "Double", 0, true);
        var body = new Body<int, int>(method, null, null, new JsonCodec());

        var failure = EitherAssert.Left<ChildFailure.StartFailed, Unit>((await children.TryStartAsync(body)).Map(_ => Unit.Default));

        Assert.Contains("/nonexistent/Bodies.dll", failure.ToString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// A process the body starts is in the child host's own process group (the host makes itself a group leader
    /// before loading the body), so it does not outlive the worker: not when the worker is disposed, not when the
    /// host is killed.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_process_the_body_started_does_not_outlive_its_worker(bool killHost)
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.StartSleeper));

        var sleeper = EitherAssert.Right(await worker.InvokeAsync(60).WaitAsync(Bound));
        children.Track(sleeper);

        Assert.True(Processes.IsAlive(sleeper), Processes.Describe(sleeper));
        Assert.Equal(worker.ProcessId, ProcessGroupOf(sleeper));
        if (killHost)
        {
            Processes.Signal(worker.ProcessId, Processes.SigKill);
            await worker.Completion.WaitAsync(Bound);
        }
        else
            await worker.DisposeAsync().AsTask().WaitAsync(Bound);
        await Processes.AssertGoneAsync(sleeper, TimeSpan.FromSeconds(5));
    }

    /// <summary>The process group of <paramref name="pid"/> (field 5 of /proc/pid/stat).</summary>
    private static int ProcessGroupOf(int pid) =>
        int.Parse(Processes.Stat(pid)?[2] ?? throw new InvalidOperationException($"process {pid} is gone"), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// The parent names the assembly's build: another build's token may point elsewhere, so the child checks the names
    /// and looks the method up by name when they disagree (here the token is Double's, the name Pid's).
    /// </summary>
    [Fact]
    public async Task A_token_from_another_build_of_the_assembly_is_checked_by_name()
    {
        await using var children = new Children();
        var doubleToken = typeof(Bodies).GetMethod(nameof(Bodies.Double))!.MetadataToken;
        var method = new Nursery.Protocol.MethodSpec(typeof(Bodies).Assembly.Location, typeof(Bodies).FullName!, nameof(Bodies.Pid), doubleToken, true, Guid.NewGuid().ToString("N"));
        var worker = await children.StartAsync(new Body<int, int>(method, null, null, new JsonCodec()));

        var result = await worker.InvokeAsync(21).WaitAsync(Bound);

        Assert.Equal(worker.ProcessId, EitherAssert.Right(result));
    }

    /// <summary>The same build: the token alone names the method (the names are not compared).</summary>
    [Fact]
    public async Task A_token_from_the_same_build_names_the_method()
    {
        await using var children = new Children();
        var real = typeof(Bodies).GetMethod(nameof(Bodies.Double))!;
        var method = new Nursery.Protocol.MethodSpec(typeof(Bodies).Assembly.Location, typeof(Bodies).FullName!, "a name the child does not compare", real.MetadataToken, true, real.Module.ModuleVersionId.ToString("N"));
        var worker = await children.StartAsync(new Body<int, int>(method, null, null, new JsonCodec()));

        var result = await worker.InvokeAsync(21).WaitAsync(Bound);

        Assert.Equal(42, EitherAssert.Right(result));
    }

    [Fact]
    public async Task A_missing_method_gives_StartFailed_naming_the_method()
    {
        await using var children = new Children();
        var method = new Nursery.Protocol.MethodSpec(typeof(Bodies).Assembly.Location, typeof(Bodies).FullName!, "NoSuchMethod", 0, true);
        var body = new Body<int, int>(method, null, null, new JsonCodec());

        var failure = EitherAssert.Left<ChildFailure.StartFailed, Unit>((await children.TryStartAsync(body)).Map(_ => Unit.Default));

        Assert.Contains("NoSuchMethod", failure.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_executable_gives_StartFailed_saying_what_to_check()
    {
        await using var children = new Children();
        var options = Children.Options() with { Host = ChildHostLocation.Default with { DotnetExecutable = "/nonexistent/dotnet" } };

        var failure = EitherAssert.Left<ChildFailure.StartFailed, Unit>((await children.TryStartAsync(Body.From<int, int>(Bodies.Double), options)).Map(_ => Unit.Default));

        Assert.Contains("/nonexistent/dotnet", failure.Reason, StringComparison.Ordinal);
        Assert.Equal(0, failure.ProcessId);
    }

    [Fact]
    public async Task A_child_that_writes_garbage_before_its_hello_is_StartFailed_and_killed()
    {
        await using var children = new Children();
        var options = Children.Options() with { Host = ChildHostLocation.Default with { DotnetExecutable = "/usr/bin/yes" } };

        var failure = EitherAssert.Left<ChildFailure.StartFailed, Unit>((await children.TryStartAsync(Body.From<int, int>(Bodies.Double), options)).Map(_ => Unit.Default));

        Assert.Contains("before it was ready", failure.Reason, StringComparison.Ordinal);
        Assert.Contains("the child wrote", failure.Reason, StringComparison.Ordinal);
        Assert.True(failure.ProcessId > 0);
    }

    [Fact]
    public async Task A_missing_child_host_gives_StartFailed_saying_how_to_ship_it()
    {
        await using var children = new Children();
        var options = Children.Options() with { Host = ChildHostLocation.Default with { HostAssembly = "/nonexistent/Nursery.ChildHost.dll" } };

        var failure = EitherAssert.Left<ChildFailure.StartFailed, Unit>((await children.TryStartAsync(Body.From<int, int>(Bodies.Double), options)).Map(_ => Unit.Default));

        Assert.Contains("WorkerOptions.Host", failure.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Many_concurrent_items_are_batched_and_all_answered_in_order_of_their_values()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.Double));

        var results = await Task.WhenAll(Enumerable.Range(0, 5000).Select(i => worker.InvokeAsync(i, i.ToString(System.Globalization.CultureInfo.InvariantCulture)))).WaitAsync(Bound);

        Assert.Equal(Enumerable.Range(0, 5000).Select(i => i * 2), results.Select(EitherAssert.Right));
        Assert.Equal(5000, worker.ItemsCompleted);
    }

    [Fact]
    public async Task Cancelling_a_running_item_kills_the_child_and_gives_Cancelled()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.SleepMilliseconds));
        using var cancel = new CancellationTokenSource();
        var running = worker.InvokeAsync(60_000, "long", cancellationToken: cancel.Token);
        await Task.Delay(200);

        await cancel.CancelAsync();
        var failure = EitherAssert.Left<ChildFailure.Cancelled, int>(await running.WaitAsync(Bound));

        Assert.True(failure.ItemStarted);
        await Processes.AssertGoneAsync(worker.ProcessId, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Cancelling_an_item_waiting_behind_another_leaves_the_child_and_the_running_item_alone()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.SleepMilliseconds));
        using var cancel = new CancellationTokenSource();
        var running = worker.InvokeAsync(400, "running");
        var waiting = worker.InvokeAsync(1, "waiting", cancellationToken: cancel.Token);
        await Task.Delay(100);

        await cancel.CancelAsync();
        var cancelled = EitherAssert.Left<ChildFailure.Cancelled, int>(await waiting.WaitAsync(Bound));
        var finished = await running.WaitAsync(Bound);

        Assert.False(cancelled.ItemStarted);
        Assert.Equal(400, EitherAssert.Right(finished));
        Assert.True(worker.IsAlive);
        Assert.Equal(6, EitherAssert.Right(await worker.InvokeAsync(6, "after").WaitAsync(Bound)));
    }

    [Fact]
    public async Task Disposing_a_worker_reaps_its_child_and_later_items_are_Cancelled()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.Double));

        await worker.DisposeAsync().AsTask().WaitAsync(Bound);

        Assert.True(Processes.IsGone(worker.ProcessId) || !Processes.IsAlive(worker.ProcessId));
        Assert.True((await worker.Completion.WaitAsync(Bound)).IsNone);
        var late = EitherAssert.Left<ChildFailure.Cancelled, int>(await worker.InvokeAsync(1).WaitAsync(Bound));
        Assert.False(late.ItemStarted);
    }

    [Fact]
    public async Task Disposing_a_busy_worker_kills_it_after_the_grace_and_cancels_its_item()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.SleepForever), Children.Options() with { KillGrace = TimeSpan.FromMilliseconds(200) });
        var running = worker.InvokeAsync(1, "busy");

        await worker.DisposeAsync().AsTask().WaitAsync(Bound);

        var failure = EitherAssert.Left<ChildFailure.Cancelled, int>(await running.WaitAsync(Bound));
        Assert.Contains("disposed", failure.Reason, StringComparison.Ordinal);
        await Processes.AssertGoneAsync(worker.ProcessId, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_child_outlives_the_thread_that_asked_for_it()
    {
        await using var children = new Children();
        Task<Either<ChildFailure, Worker<int, int>>>? starting = null;
        var thread = new Thread(() =>
        {
            try
            {
                starting = Worker.StartAsync(Body.From<int, int>(Bodies.Pid), Children.Options());
            }
            catch (Exception exception)
            {
                starting = Task.FromException<Either<ChildFailure, Worker<int, int>>>(exception);
            }
        });
        thread.Start();
        thread.Join();
        var worker = EitherAssert.Right(await starting!.WaitAsync(Bound));
        children.Track(worker.ProcessId);
        await using (worker)
        {
            await Task.Delay(1500);

            var result = await worker.InvokeAsync(0).WaitAsync(Bound);

            Assert.Equal(worker.ProcessId, EitherAssert.Right(result));
        }
    }
}
