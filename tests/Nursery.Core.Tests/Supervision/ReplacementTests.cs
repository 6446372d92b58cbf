using Nursery.TestBodies;
using Nursery.Tests.Support;

namespace Nursery.Tests.Supervision;

/// <summary>
/// A child killed while it holds one started item and several it has not started: the started one is reported once,
/// with the child's exit status; the others run once each in the replacement (a fresh start or the warm spare).
/// </summary>
public sealed class ReplacementTests
{
    private static readonly TimeSpan Bound = Children.Bound;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_SIGKILLed_child_s_started_item_is_Crashed_once_and_its_queued_items_run_once_in_the_replacement(bool warmSpare)
    {
        var record = Path.Combine(Path.GetTempPath(), $"nursery-replacement-{Guid.NewGuid():N}.txt");
        var pool = new WorkerPool<int, int>(
            Body.From<int, int>(RecordingBodies.RecordThenPid).WithInitializer<string>(RecordingBodies.RecordTo, record),
            new PoolOptions { Workers = 1, WarmSpare = warmSpare, Worker = Children.Options(), RestartIntensity = new RestartIntensity(10, TimeSpan.FromSeconds(60)) }
        );
        try
        {
            await using (pool)
            {
                var victim = EitherAssert.Right(await pool.InvokeAsync(0, "first").WaitAsync(Bound));
                var running = pool.InvokeAsync(-1, "long");
                var queued = Enumerable.Range(1, 20).Select(i => pool.InvokeAsync(i, $"q{i}")).ToArray();
                await Files.WaitForLineAsync(record, "-1");

                Processes.Signal(victim, Processes.SigKill);
                var crashed = EitherAssert.Left<ChildFailure.Crashed, int>(await running.WaitAsync(Bound));
                var answers = (await Task.WhenAll(queued).WaitAsync(Bound)).Select(EitherAssert.Right).ToList();

                Assert.Equal("long", crashed.Key);
                Assert.Equal(1, crashed.Attempt);
                Assert.Equal(9, crashed.Signal.IfNone(0));
                Assert.Equal(victim, crashed.ProcessId);
                Assert.All(answers, pid => Assert.NotEqual(victim, pid));
                // Re-sent items run in the order they were re-sent, not the order they were first sent.
                var started = File.ReadAllLines(record);
                Assert.Equal(["0", "-1"], started[..2]);
                Assert.Equal(Enumerable.Range(1, 20), started[2..].Select(int.Parse).Order());
            }
            await Processes.AssertAllGoneAsync(pool.ProcessIds);
        }
        finally
        {
            File.Delete(record);
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(10, 5)]
    public async Task A_child_SIGKILLed_between_items_has_no_item_Crashed_and_the_items_it_had_not_started_run_once_in_the_replacement(int answered, int waiting)
    {
        var record = Path.Combine(Path.GetTempPath(), $"nursery-replacement-{Guid.NewGuid():N}.txt");
        var pool = new WorkerPool<int, int>(
            Body.From<int, int>(RecordingBodies.RecordThenPid).WithInitializer<string>(RecordingBodies.RecordTo, record),
            new PoolOptions { Workers = 1, Worker = Children.Options(), RestartIntensity = new RestartIntensity(10, TimeSpan.FromSeconds(60)) }
        );
        try
        {
            await using (pool)
            {
                // The child answers these (in one batch when there are several) and is then idle.
                var first = await pool.InvokeBatchAsync([.. Enumerable.Range(0, answered)], [.. Enumerable.Range(0, answered).Select(i => $"a{i}")]).WaitAsync(Bound);
                var victim = first[0].ProcessId;
                Assert.All(first, result => Assert.Equal(victim, EitherAssert.Right(result.Result)));
                // Stopped, the child cannot start what it is sent now; it dies without having started any of it.
                Processes.Signal(victim, Processes.SigStop);
                var sent = Enumerable.Range(100, waiting).Select(i => pool.InvokeAsync(i, $"w{i}")).ToArray();
                await Task.Delay(200);

                Processes.Signal(victim, Processes.SigKill);
                var results = await Task.WhenAll(sent).WaitAsync(Bound);

                Assert.All(results, result => Assert.NotEqual(victim, EitherAssert.Right(result)));
                var started = File.ReadAllLines(record).Select(int.Parse).ToList();
                Assert.Equal(Enumerable.Range(0, answered), started.Take(answered));
                Assert.Equal(Enumerable.Range(100, waiting), started.Skip(answered).Order());
            }
            await Processes.AssertAllGoneAsync(pool.ProcessIds);
        }
        finally
        {
            File.Delete(record);
        }
    }

    [Fact]
    public async Task An_idle_child_prepares_its_body_without_running_the_body_s_static_constructor_which_fails_on_the_first_item_as_ever()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"nursery-cctor-{Guid.NewGuid():N}.txt");
        try
        {
            await using var children = new Children();
            var options = Children.Options() with { Environment = new Dictionary<string, string> { [ThrowingStaticConstructorBody.MarkerVariable] = marker } };
            var worker = await children.StartAsync(Body.From<int, int>(ThrowingStaticConstructorBody.AddOffset), options);
            // Idle long past the moment the child prepares its body.
            await Task.Delay(500);
            var ranWhileIdle = File.Exists(marker);

            var first = await worker.InvokeAsync(1, "first").WaitAsync(Bound);
            var second = await worker.InvokeAsync(2, "second").WaitAsync(Bound);

            Assert.False(ranWhileIdle);
            Assert.Equal("System.TypeInitializationException", EitherAssert.Left<ChildFailure.Faulted, int>(first).Error.Type);
            Assert.Equal("System.TypeInitializationException", EitherAssert.Left<ChildFailure.Faulted, int>(second).Error.Type);
            Assert.Equal(["ran"], File.ReadAllLines(marker));
        }
        finally
        {
            File.Delete(marker);
        }
    }

    [Fact]
    public async Task A_prepared_warm_spare_runs_an_async_body_as_its_first_item()
    {
        var pool = new WorkerPool<int, long>(Body.FromAsync<int, long>(AsyncPreparedBody.NextAfterYield), new PoolOptions { Workers = 1, WarmSpare = true, Worker = Children.Options() });
        await using (pool)
        {
            await pool.StartAsync().WaitAsync(Bound);
            var first = await pool.InvokeWithProcessIdAsync(1, "first", 1, 0, CancellationToken.None).WaitAsync(Bound);
            var deadline = DateTime.UtcNow + Bound;
            while (pool.SpareProcessId == 0 && DateTime.UtcNow < deadline)
                await Task.Delay(20);
            var spare = pool.SpareProcessId;
            var running = pool.InvokeAsync(-1, "long");
            // Idle long past the moment the spare prepares its body.
            await Task.Delay(500);

            Processes.Signal(first.ProcessId, Processes.SigKill);
            EitherAssert.Left<ChildFailure.Crashed, long>(await running.WaitAsync(Bound));
            var next = await pool.InvokeWithProcessIdAsync(41, "next", 1, 0, CancellationToken.None).WaitAsync(Bound);

            Assert.Equal(2, EitherAssert.Right(first.Result));
            Assert.Equal(42, EitherAssert.Right(next.Result));
            Assert.Equal(spare, next.ProcessId);
        }
        await Processes.AssertAllGoneAsync(pool.ProcessIds);
    }
}
