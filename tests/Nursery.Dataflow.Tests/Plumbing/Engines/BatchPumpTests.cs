using System.Collections.Concurrent;
using LanguageExt;
using Nursery.Engines;
using Nursery.Supervision;

namespace Nursery.Dataflow.Tests.Plumbing.Engines;

/// <summary>
/// A stage's batching, in-process with a batch function that runs no child: batches are cut from what is queued, at
/// most the window's worth are in flight until sent on, the automatic input capacity follows the batch size, and the
/// emissions close once the inlet is done and every batch is sent on.
/// </summary>
public sealed class BatchPumpTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static Item<int>[] Items(int from, int count) =>
        [.. Enumerable.Range(from, count).Select(i => new Item<int>(i.ToString(System.Globalization.CultureInfo.InvariantCulture), Prelude.Right<ChildFailure, int>(i)))];

    /// <summary>A batch function whose batches end when the test says; it records each batch and how many slots had been released when it began.</summary>
    private sealed class Batches
    {
        public ConcurrentQueue<(string Keys, int ReleasedBefore)> Began { get; } = new();

        public ConcurrentQueue<TaskCompletionSource<Item<int>[]>> Running { get; } = new();

        public int Released;

        public Task<Item<int>[]> RunAsync(Item<int>[] batch)
        {
            Began.Enqueue((string.Join(",", batch.Select(item => item.Key)), Volatile.Read(ref Released)));
            var done = new TaskCompletionSource<Item<int>[]>(TaskCreationOptions.RunContinuationsAsynchronously);
            Running.Enqueue(done);
            return done.Task;
        }
    }

    /// <summary>Sends every emission on as a stage does: reads it, then frees its slot.</summary>
    private static async Task<List<string>> SendAllAsync(Emissions<int> emissions, BatchPump<int, int> pump, Batches batches)
    {
        var sent = new List<string>();
        await foreach (var emission in emissions.ReadAllAsync())
        {
            var outputs = await emission.Outputs.WaitAsync(Bound);
            sent.Add(string.Join(",", outputs.Select(output => output.Key)));
            if (emission.HoldsSlot)
            {
                Interlocked.Increment(ref batches.Released);
                pump.Release();
            }
        }
        return sent;
    }

    /// <summary>Ends the inlet as a stage's Complete does: no more writes, and its public face (here never offered an item) done.</summary>
    private static void Close(Inlet<int> inlet)
    {
        var face = new System.Threading.Tasks.Dataflow.BufferBlock<Item<int>>();
        face.Complete();
        _ = inlet.ForwardFromAsync(face);
        inlet.Close();
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var bound = new CancellationTokenSource(Bound);
        while (!condition())
            await Task.Delay(5, bound.Token);
    }

    [Fact]
    public async Task At_most_the_windows_batches_are_in_flight_and_the_next_begins_when_one_is_sent_on()
    {
        // One worker holding 4 items: a window of 2 batches; the sizer has seen no batch, so batches of 1.
        var batches = new Batches();
        var emissions = new Emissions<int>(ordered: true);
        var pump = new BatchPump<int, int>(workers: 1, itemsPerWorker: 4, boundedCapacity: 0, new BatchSizer().Next, emissions, batches.RunAsync);
        var pumping = pump.RunAsync();
        var sending = SendAllAsync(emissions, pump, batches);

        Assert.True(await pump.Inlet.WriteAsync(Items(0, 4)).AsTask().WaitAsync(Bound));
        Close(pump.Inlet);
        for (var ended = 0; ended < 4; ended++)
        {
            TaskCompletionSource<Item<int>[]>? oldest = null;
            await WaitUntilAsync(() => batches.Running.TryDequeue(out oldest));
            oldest!.SetResult(Items(ended, 1));
        }

        await pumping.WaitAsync(Bound);
        Assert.Equal(["0", "1", "2", "3"], await sending.WaitAsync(Bound));
        Assert.Equal([("0", 0), ("1", 0)], batches.Began.Take(2));
        // Every later batch began only after a slot was freed: batch n (from 0) after n - 1 batches were sent on.
        Assert.All(batches.Began.Skip(2).Select((began, index) => (began.ReleasedBefore, Needed: index + 1)), pair => Assert.True(pair.ReleasedBefore >= pair.Needed, $"a batch began with {pair.ReleasedBefore} slots freed; it needs {pair.Needed}"));
    }

    [Fact]
    public async Task Batches_are_cut_from_what_is_queued_in_order_without_waiting_to_fill()
    {
        // The sizer has seen batches of instant items: batches as large as allowed (half of the 4 a child may hold).
        var sizer = new BatchSizer();
        sizer.Observe(10, 0);
        var batches = new Batches();
        var emissions = new Emissions<int>(ordered: false);
        var pump = new BatchPump<int, int>(workers: 2, itemsPerWorker: 4, boundedCapacity: 0, sizer.Next, emissions, batches.RunAsync);
        var pumping = pump.RunAsync();
        var sending = SendAllAsync(emissions, pump, batches);

        Assert.True(await pump.Inlet.WriteAsync(Items(0, 5)).AsTask().WaitAsync(Bound));
        await WaitUntilAsync(() => batches.Began.Count == 3);
        Close(pump.Inlet);
        while (batches.Running.TryDequeue(out var running))
            running.SetResult([]);

        await pumping.WaitAsync(Bound);
        await sending.WaitAsync(Bound);
        Assert.Equal(["0,1", "2,3", "4"], batches.Began.Select(began => began.Keys));
    }

    [Fact]
    public void The_automatic_input_capacity_starts_small_and_a_capacity_the_user_set_stays()
    {
        var automatic = new BatchPump<int, int>(workers: 2, itemsPerWorker: 1024, boundedCapacity: 0, new BatchSizer().Next, new Emissions<int>(ordered: true), Task.FromResult);
        var set = new BatchPump<int, int>(workers: 2, itemsPerWorker: 1024, boundedCapacity: 100, new BatchSizer().Next, new Emissions<int>(ordered: true), Task.FromResult);

        // 4 batches in flight of at most 512 items; before any batch, batches of 1: two rounds, at least 16.
        Assert.Equal((2048, 2048, 16), (automatic.InFlight, automatic.Inlet.MaxCapacity, automatic.Inlet.Capacity));
        Assert.Equal((100, 100), (set.Inlet.MaxCapacity, set.Inlet.Capacity));
    }

    [Fact]
    public async Task The_automatic_input_capacity_follows_the_batch_size()
    {
        var sizer = new BatchSizer();
        var batches = new Batches();
        var emissions = new Emissions<int>(ordered: true);
        var pump = new BatchPump<int, int>(workers: 2, itemsPerWorker: 1024, boundedCapacity: 0, sizer.Next, emissions, batches.RunAsync);
        var pumping = pump.RunAsync();
        var sending = SendAllAsync(emissions, pump, batches);

        sizer.Observe(100, 0); // instant items: the next batch is as large as allowed (512)
        Assert.True(await pump.Inlet.WriteAsync(Items(0, 1)).AsTask().WaitAsync(Bound));
        await WaitUntilAsync(() => batches.Began.Count == 1);

        Assert.Equal(2048, pump.Inlet.Capacity); // 4 batches × 512 × 2 rounds, capped at what may be in flight
        Close(pump.Inlet);
        Assert.True(batches.Running.TryDequeue(out var running));
        running.SetResult(Items(0, 1));
        await pumping.WaitAsync(Bound);
        Assert.Equal(["0"], await sending.WaitAsync(Bound));
    }
}
