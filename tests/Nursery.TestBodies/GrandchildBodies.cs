using System.Diagnostics;
using System.Globalization;

namespace Nursery.TestBodies;

/// <summary>Bodies that start processes of their own (grandchildren of the parent), for the tests that check they end with their child.</summary>
public static class GrandchildBodies
{
    /// <summary>
    /// Starts <c>sleep 300</c> and returns its pid without waiting. Its stdio are pipes to the host, not the host's own
    /// stdio, so nothing of the parent's is held by it: only the host's group kill can end it. The tests find it by the
    /// marker the worker's environment carries (NURSERY_TEST_MARK), which it inherits.
    /// </summary>
    public static int StartDetachedSleeper(int seconds)
    {
        var start = new ProcessStartInfo("sleep", seconds.ToString(CultureInfo.InvariantCulture))
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var sleeper = Process.Start(start)!;
        Started.Add(sleeper);
        return sleeper.Id;
    }

    /// <summary>Kept so the pipes to the sleepers stay open as long as the host runs.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentBag<Process> Started = [];
}
