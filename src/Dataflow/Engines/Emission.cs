namespace Nursery.Engines;

/// <summary>What a stage sends on: a batch's outputs (holding a window slot until sent), or one retried item's.</summary>
internal readonly record struct Emission<T>(Task<Item<T>[]> Outputs, bool HoldsSlot);
