using Nursery.Supervision;

namespace Nursery.Tests.Supervision;

/// <summary>The pool's leasing without processes: least busy slot, ready before starting, ended children forgotten, recycling.</summary>
public sealed class LeasesTests
{
    private sealed class FakeWorker : ILeasable
    {
        public bool IsAlive { get; set; } = true;

        public long ItemsCompleted { get; set; }
    }

    private static Lease<FakeWorker> Place(Leases<FakeWorker> leases, int slot, int inFlight = 0)
    {
        var target = leases.Slots[slot];
        var lease = new Lease<FakeWorker>(new FakeWorker(), target) { InFlight = inFlight };
        target.Current = lease;
        return lease;
    }

    [Fact]
    public void Items_go_to_the_ready_child_with_the_fewest_items()
    {
        var leases = new Leases<FakeWorker>(3);
        Place(leases, 0, inFlight: 4);
        var idle = Place(leases, 1, inFlight: 1);
        Place(leases, 2, inFlight: 2);

        var slot = leases.Pick(5, out var ready);

        Assert.Same(idle, ready);
        Assert.Same(leases.Slots[1], slot);
        Assert.Equal(6, idle.InFlight);
    }

    [Fact]
    public void An_empty_slot_beats_a_busy_child_but_not_an_idle_one()
    {
        var leases = new Leases<FakeWorker>(2);
        var busy = Place(leases, 0, inFlight: 1);

        var slot = leases.Pick(1, out var ready);

        Assert.Null(ready);
        Assert.Same(leases.Slots[1], slot);

        busy.InFlight = 0;
        Assert.Same(leases.Slots[0], leases.Pick(1, out var idle));
        Assert.Same(busy, idle);
    }

    [Fact]
    public void Items_waiting_for_a_start_make_its_slot_busier()
    {
        var leases = new Leases<FakeWorker>(2);
        leases.Slots[0].Waiting = 2;

        var slot = leases.Pick(1, out var ready);

        Assert.Null(ready);
        Assert.Same(leases.Slots[1], slot);
    }

    [Fact]
    public void A_child_that_ended_is_forgotten_before_picking()
    {
        var leases = new Leases<FakeWorker>(1);
        var dead = Place(leases, 0);
        dead.Worker.IsAlive = false;

        leases.Pick(1, out var ready);

        Assert.Null(ready);
        Assert.Null(leases.Slots[0].Current);
        Assert.Equal(0, dead.InFlight);
    }

    [Fact]
    public void A_child_past_its_recycle_count_leaves_its_slot_and_is_disposed_once_it_holds_nothing()
    {
        var leases = new Leases<FakeWorker>(1);
        var lease = Place(leases, 0, inFlight: 2);
        lease.Worker.ItemsCompleted = 10;

        Assert.False(Leases<FakeWorker>.Release(lease, 1, recycleAfter: 10));
        Assert.True(lease.Retired);
        Assert.Null(leases.Slots[0].Current);

        Assert.True(Leases<FakeWorker>.Release(lease, 1, recycleAfter: 10));
        Assert.False(Leases<FakeWorker>.Release(lease, 0, recycleAfter: 10));
    }

    [Fact]
    public void Without_recycling_a_child_keeps_its_slot()
    {
        var leases = new Leases<FakeWorker>(1);
        var lease = Place(leases, 0, inFlight: 1);
        lease.Worker.ItemsCompleted = 1_000_000;

        Assert.False(Leases<FakeWorker>.Release(lease, 1, recycleAfter: 0));
        Assert.Same(lease, leases.Slots[0].Current);
        Assert.Equal(0, lease.InFlight);
    }
}
