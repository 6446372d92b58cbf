using System.Diagnostics;
using System.Globalization;

namespace Nursery.ChildHost;

/// <summary>
/// For a child started through srun or ssh, whose parent-death signal watches the launcher's helper, not the real
/// parent: the child leaves when no frame (not even a heartbeat) has come from the parent for
/// <c>NURSERY_PARENT_SILENCE_MS</c> milliseconds. A stopped srun, a lost connection or a dead parent end the child
/// even when its stdin never reaches EOF. Off when the variable is absent (local children).
/// </summary>
internal static class ParentSilence
{
    public const int ExitSilent = 4;
    private static long _lastHeard = Stopwatch.GetTimestamp();
    private static Timer? _timer;

    public static void Heard() => Volatile.Write(ref _lastHeard, Stopwatch.GetTimestamp());

    public static void Start()
    {
        var setting = Environment.GetEnvironmentVariable("NURSERY_PARENT_SILENCE_MS");
        if (!long.TryParse(setting, NumberStyles.Integer, CultureInfo.InvariantCulture, out var milliseconds) || milliseconds <= 0)
            return;
        var limit = TimeSpan.FromMilliseconds(milliseconds);
        var period = TimeSpan.FromMilliseconds(Math.Clamp(milliseconds / 8, 20, 1000));
        Heard();
        _timer = new Timer(
            _ =>
            {
                if (Stopwatch.GetElapsedTime(Volatile.Read(ref _lastHeard)) > limit)
                    Program.Leave(ExitSilent, $"nursery child host: nothing from the parent for {milliseconds} ms (NURSERY_PARENT_SILENCE_MS); leaving, since the parent or the connection to it is gone");
            },
            null,
            period,
            period
        );
    }
}
