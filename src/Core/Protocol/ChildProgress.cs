namespace Nursery.Protocol;

/// <summary>
/// What a child's progress slot says (<see cref="ProgressSlotLayout"/>): whether the child keeps it, the item it last
/// started and when, and the item it last finished. The child runs items one at a time in the order sent, so the
/// last one started is running unless it is also the last one finished.
/// </summary>
/// <param name="Kept">Whether the child mapped the slot and keeps it up to date; false: the slot says nothing.</param>
/// <param name="Started">The item the child last started; 0 when none.</param>
/// <param name="Since">When it started (Stopwatch ticks, comparable across processes on Linux).</param>
/// <param name="Finished">The item the child last finished (its reply written, possibly held in a batch); 0 when none.</param>
internal readonly record struct ChildProgress(bool Kept, long Started, long Since, long Finished)
{
    /// <summary>The item the child is running: started and not finished; 0 when it is idle or keeps no slot.</summary>
    public long Running => Started != Finished ? Started : 0;
}
