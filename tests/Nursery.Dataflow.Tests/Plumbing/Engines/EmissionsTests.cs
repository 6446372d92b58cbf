using LanguageExt;
using Nursery.Engines;

namespace Nursery.Dataflow.Tests.Plumbing.Engines;

/// <summary>
/// The ordering part of a stage, in-process (no child involved): batches that complete out of order leave in the order
/// they were cut when the stage is ordered and as they complete when it is not; items sent on by themselves are waited
/// for before the end.
/// </summary>
public sealed class EmissionsTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static Item<int>[] Batch(params int[] values) =>
        [.. values.Select(value => new Item<int>(value.ToString(System.Globalization.CultureInfo.InvariantCulture), Prelude.Right<ChildFailure, int>(value)))];

    /// <summary>Reads until the reader ends; each emission's keys, and whether it held a window slot.</summary>
    private static async Task<List<(string Keys, bool HoldsSlot)>> ReadAllAsync(Emissions<int> emissions)
    {
        var read = new List<(string, bool)>();
        await foreach (var emission in emissions.ReadAllAsync())
        {
            var outputs = await emission.Outputs.WaitAsync(Bound);
            read.Add((string.Join(",", outputs.Select(output => output.Key)), emission.HoldsSlot));
        }
        return read;
    }

    [Fact]
    public async Task Ordered_batches_leave_in_the_order_they_were_cut_whatever_order_they_complete_in()
    {
        var emissions = new Emissions<int>(ordered: true);
        var batches = Enumerable.Range(0, 4).Select(_ => new TaskCompletionSource<Item<int>[]>(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        foreach (var batch in batches)
            emissions.Batch(batch.Task);
        var reading = ReadAllAsync(emissions);
        var closing = emissions.CloseAsync();

        batches[3].SetResult(Batch(6, 7));
        batches[1].SetResult(Batch(2, 3));
        batches[2].SetResult(Batch(4, 5));
        batches[0].SetResult(Batch(0, 1));

        await closing.WaitAsync(Bound);
        Assert.Equal([("0,1", true), ("2,3", true), ("4,5", true), ("6,7", true)], await reading.WaitAsync(Bound));
    }

    [Fact]
    public async Task Unordered_batches_leave_as_they_complete()
    {
        var emissions = new Emissions<int>(ordered: false);
        var batches = Enumerable.Range(0, 3).Select(_ => new TaskCompletionSource<Item<int>[]>()).ToArray();
        foreach (var batch in batches)
            emissions.Batch(batch.Task);

        batches[2].SetResult(Batch(4, 5));
        batches[0].SetResult(Batch(0, 1));
        batches[1].SetResult(Batch(2, 3));
        await emissions.CloseAsync().WaitAsync(Bound);

        Assert.Equal([("4,5", true), ("0,1", true), ("2,3", true)], await ReadAllAsync(emissions).WaitAsync(Bound));
    }

    [Fact]
    public async Task Closing_waits_for_the_items_sent_on_by_themselves_which_hold_no_slot()
    {
        var emissions = new Emissions<int>(ordered: false);
        var retried = new TaskCompletionSource<Item<int>>(TaskCreationOptions.RunContinuationsAsynchronously);
        emissions.Batch(Task.FromResult(Batch(0, 2)));
        emissions.Detach(retried.Task);
        var reading = ReadAllAsync(emissions);

        var closing = emissions.CloseAsync();
        Assert.False(closing.IsCompleted);
        Assert.False(reading.IsCompleted);
        retried.SetResult(Batch(1)[0]);

        await closing.WaitAsync(Bound);
        Assert.Equal([("0,2", true), ("1", false)], await reading.WaitAsync(Bound));
    }

    [Fact]
    public async Task A_defect_upstream_ends_the_reader_with_its_exception()
    {
        var emissions = new Emissions<int>(ordered: true);
        emissions.Batch(Task.FromResult(Batch(0)));

        emissions.Fail(new InvalidOperationException("a defect in the pump"));

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => ReadAllAsync(emissions).WaitAsync(Bound));
        Assert.Equal("a defect in the pump", thrown.Message);
    }
}
