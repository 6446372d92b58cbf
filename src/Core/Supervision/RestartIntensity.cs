namespace Nursery;

/// <summary>Erlang/OTP's restart intensity: at most <paramref name="MaxRestarts"/> restarts within <paramref name="Window"/>.</summary>
/// <param name="MaxRestarts">Restarts allowed within the window.</param>
/// <param name="Window">The sliding window.</param>
public sealed record RestartIntensity(int MaxRestarts, TimeSpan Window);
