using LanguageExt;

namespace Nursery.Supervision;

/// <summary>One of the pool's places for a child: the child in it, the start under way, the items waiting for that start. Changed under the pool's lock.</summary>
internal sealed class LeaseSlot<TWorker>
    where TWorker : class, ILeasable
{
    public Lease<TWorker>? Current { get; set; }

    public Task<Either<ChildFailure, Lease<TWorker>>>? Starting { get; set; }

    public int Waiting { get; set; }
}
