using System.Threading.Tasks.Dataflow;

namespace Nursery.Dataflow.Tests.Plumbing;

/// <summary>
/// The queue in front of a stage or sink (in-process plumbing, no child involved): bounded by items, writers wait for
/// room, closing refuses further writes without losing what is queued, and the forwarder of the public face may still
/// write after the close.
/// </summary>
public sealed class InletTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static Item<int>[] Items(int from, int count) =>
        [.. Enumerable.Range(from, count).Select(i => new Item<int>(i.ToString(System.Globalization.CultureInfo.InvariantCulture), LanguageExt.Prelude.Right<ChildFailure, int>(i)))];

    private static async Task<List<int>> TakeAllAsync(Inlet<int> inlet)
    {
        var taken = new List<Item<int>[]>();
        var values = new List<int>();
        while (await inlet.TakeAsync(taken).AsTask().WaitAsync(Bound))
        {
            values.AddRange(taken.SelectMany(array => array).Select(item => item.Value.Match(v => v, _ => -1)));
            taken.Clear();
        }
        return values;
    }

    [Fact]
    public async Task A_writer_waits_while_the_inlet_is_full_and_goes_on_when_the_reader_takes()
    {
        var inlet = new Inlet<int>(capacity: 4);
        Assert.True(await inlet.WriteAsync(Items(0, 3)).AsTask().WaitAsync(Bound));
        var second = inlet.WriteAsync(Items(3, 2)).AsTask();
        Assert.False(second.IsCompleted);
        Assert.Equal(3, inlet.Count);

        var taken = new List<Item<int>[]>();
        Assert.True(await inlet.TakeAsync(taken).AsTask().WaitAsync(Bound));
        Assert.True(await second.WaitAsync(Bound));
        Assert.Equal(2, inlet.Count);
        Assert.Equal(["0", "1", "2"], taken.SelectMany(array => array).Select(item => item.Key));
    }

    [Fact]
    public async Task A_lowered_capacity_holds_writers_back_and_raising_it_again_lets_them_in()
    {
        var inlet = new Inlet<int>(capacity: 8);
        inlet.Resize(2);
        Assert.True(await inlet.WriteAsync(Items(0, 2)).AsTask().WaitAsync(Bound));
        var waiting = inlet.WriteAsync(Items(2, 2)).AsTask();
        Assert.False(waiting.IsCompleted);

        inlet.Resize(100); // clamped to the 8 it was made with
        Assert.True(await waiting.WaitAsync(Bound));
        Assert.Equal(4, inlet.Count);
        Assert.True(await inlet.WriteAsync(Items(4, 4)).AsTask().WaitAsync(Bound));
        Assert.False(inlet.WriteAsync(Items(8, 1)).AsTask().IsCompleted);
        Assert.Equal(8, inlet.MaxCapacity);
    }

    [Fact]
    public async Task An_array_larger_than_the_capacity_goes_into_an_empty_inlet()
    {
        var inlet = new Inlet<int>(capacity: 2);
        Assert.True(await inlet.WriteAsync(Items(0, 5)).AsTask().WaitAsync(Bound));
        Assert.Equal(5, inlet.Count);
    }

    [Fact]
    public async Task Closing_refuses_new_writes_releases_waiting_writers_and_keeps_what_is_queued()
    {
        var inlet = new Inlet<int>(capacity: 2);
        Assert.True(await inlet.WriteAsync(Items(0, 2)).AsTask().WaitAsync(Bound));
        var waiting = inlet.WriteAsync(Items(2, 1)).AsTask();
        Assert.False(waiting.IsCompleted);
        var face = new BufferBlock<Item<int>>();
        var forwarding = inlet.ForwardFromAsync(face);

        inlet.Close();

        Assert.False(await waiting.WaitAsync(Bound));
        Assert.False(await inlet.WriteAsync(Items(3, 1)).AsTask().WaitAsync(Bound));
        // The public face's items still get through after the close, until the face completes.
        foreach (var item in Items(10, 3))
            Assert.True(face.Post(item));
        var reading = TakeAllAsync(inlet);
        face.Complete();
        await forwarding.WaitAsync(Bound);
        Assert.Equal([0, 1, 10, 11, 12], await reading.WaitAsync(Bound));
    }

    [Fact]
    public async Task The_reader_ends_only_when_the_inlet_is_closed_and_its_forwarder_is_done()
    {
        var inlet = new Inlet<int>(capacity: 8);
        var face = new BufferBlock<Item<int>>();
        var forwarding = inlet.ForwardFromAsync(face);
        var reading = TakeAllAsync(inlet);
        Assert.True(await inlet.WriteAsync(Items(0, 1)).AsTask().WaitAsync(Bound));

        inlet.Close();
        await Task.Delay(50);
        Assert.False(reading.IsCompleted, "the forwarder may still write");
        face.Complete();

        await forwarding.WaitAsync(Bound);
        Assert.Equal([0], await reading.WaitAsync(Bound));
    }

    [Fact]
    public async Task A_cancelled_writer_is_told_its_items_were_not_taken()
    {
        var inlet = new Inlet<int>(capacity: 1);
        Assert.True(await inlet.WriteAsync(Items(0, 1)).AsTask().WaitAsync(Bound));
        using var cancel = new CancellationTokenSource();
        var waiting = inlet.WriteAsync(Items(1, 1), cancel.Token).AsTask();
        Assert.False(waiting.IsCompleted);

        await cancel.CancelAsync();

        Assert.False(await waiting.WaitAsync(Bound));
        Assert.Equal(1, inlet.Count);
    }
}
