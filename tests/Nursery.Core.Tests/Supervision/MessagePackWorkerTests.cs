using Nursery.TestBodies;
using Nursery.Tests.Support;

namespace Nursery.Tests.Supervision;

/// <summary>
/// Bodies built with <see cref="MessagePackCodec"/> run in real children: the child host creates the same codec from
/// its name, items and results cross in MessagePack both ways, failures come back as values, and the children are gone
/// afterwards.
/// </summary>
public sealed class MessagePackWorkerTests
{
    private static readonly TimeSpan Bound = Children.Bound;

    [Fact]
    public async Task Records_with_nested_lists_dictionaries_and_nulls_travel_both_ways_in_MessagePack()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<Order, Shipment>(BinaryBodies.Ship, new MessagePackCodec()));

        var shipment = EitherAssert.Right(await worker.InvokeAsync(new Order("A7", 3, ["red", "big"]), "a7").WaitAsync(Bound));

        Assert.NotEqual(Environment.ProcessId, worker.ProcessId);
        Assert.Equal("A7", shipment.OrderId);
        Assert.Equal([new Parcel("red", 1, null), new Parcel("big", 2, "after red")], shipment.Parcels);
        Assert.Equal(new Dictionary<string, int> { ["quantity"] = 3, ["tags"] = 2 }, shipment.Counts);
        Assert.Equal(7.5, shipment.Weight);
    }

    [Fact]
    public async Task A_null_member_and_an_empty_list_cross_as_null_and_empty()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<Order, Shipment>(BinaryBodies.Ship, new MessagePackCodec()));

        var shipment = EitherAssert.Right(await worker.InvokeAsync(new Order("empty", 0, []), "empty").WaitAsync(Bound));

        Assert.Empty(shipment.Parcels);
        Assert.Null(shipment.Weight);
    }

    [Fact]
    public async Task Strings_of_10_KiB_cross_unchanged_ascii_or_not()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<string, Measured>(BinaryBodies.Measure, new MessagePackCodec()));
        string[] texts = [new string('x', 10 * 1024), string.Concat(Enumerable.Repeat("é\"\n✓", 2560)), ""];

        var results = await Task.WhenAll(texts.Select((text, index) => worker.InvokeAsync(text, $"text{index}"))).WaitAsync(Bound);

        var measured = results.Select(EitherAssert.Right).ToArray();
        Assert.Equal(texts, measured.Select(result => result.Text));
        Assert.Equal(texts.Select(text => text.Length), measured.Select(result => result.Length));
    }

    [Fact]
    public async Task Nested_lists_cross_both_ways()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<List<List<int>>, List<List<int>>>(BinaryBodies.Transpose, new MessagePackCodec()));

        var columns = EitherAssert.Right(await worker.InvokeAsync([[1, 2, 3], [4, 5, 6]], "grid").WaitAsync(Bound));

        Assert.Equal([[1, 4], [2, 5], [3, 6]], columns);
    }

    [Fact]
    public async Task A_body_that_throws_gives_Faulted_and_the_child_serves_the_next_item()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, int>(Bodies.ThrowOn13, new MessagePackCodec()), Children.Options("binary"));

        var failure = EitherAssert.Left<ChildFailure.Faulted, int>(await worker.InvokeAsync(13, "item-13").WaitAsync(Bound));
        var next = EitherAssert.Right(await worker.InvokeAsync(4, "item-4").WaitAsync(Bound));

        Assert.Equal("System.ArgumentException", failure.Error.Type);
        Assert.Equal("13 is unlucky", failure.Error.Message);
        Assert.Equal("binary", failure.Stage);
        Assert.Equal("item-13", failure.Key);
        Assert.Equal(worker.ProcessId, failure.ProcessId);
        Assert.Equal(8, next);
    }

    [Fact]
    public async Task A_body_that_returns_null_gives_Faulted_NullResult_as_with_JSON()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<int, string>(BinaryBodies.ReturnsNull, new MessagePackCodec()));

        var failure = EitherAssert.Left<ChildFailure.Faulted, string>(await worker.InvokeAsync(1, "null").WaitAsync(Bound));

        Assert.Equal("Nursery.NullResult", failure.Error.Type);
    }

    [Fact]
    public async Task A_pool_of_two_children_runs_a_few_hundred_records_and_its_children_are_gone_after_it()
    {
        var pool = new WorkerPool<Order, Shipment>(Body.From<Order, Shipment>(BinaryBodies.Ship, new MessagePackCodec()), new PoolOptions { Workers = 2, Worker = Children.Options() });
        var orders = Enumerable.Range(0, 300).Select(i => new Order($"o{i}", i, [.. Enumerable.Range(0, i % 5).Select(tag => $"t{tag}")])).ToArray();
        var failing = new WorkerPool<int, int>(Body.From<int, int>(Bodies.ThrowOn13, new MessagePackCodec()), new PoolOptions { Workers = 1, Worker = Children.Options() });

        await using (pool)
        await using (failing)
        {
            var results = await Task.WhenAll(orders.Select(order => pool.InvokeAsync(order, order.Id))).WaitAsync(Bound);
            var faulted = await failing.InvokeAsync(13, "13").WaitAsync(Bound);

            var shipments = results.Select(EitherAssert.Right).ToArray();
            Assert.Equal(orders.Select(order => order.Id), shipments.Select(shipment => shipment.OrderId));
            Assert.Equal(orders.Select(order => order.Tags.Count), shipments.Select(shipment => shipment.Parcels.Count));
            Assert.Equal("13 is unlucky", EitherAssert.Left<ChildFailure.Faulted, int>(faulted).Error.Message);
            Assert.Equal(2, pool.ProcessIds.Count);
        }
        foreach (var pid in pool.ProcessIds.Concat(failing.ProcessIds))
            await Processes.AssertGoneAsync(pid, TimeSpan.FromSeconds(5));
    }
}
