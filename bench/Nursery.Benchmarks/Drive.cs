using System.Diagnostics;
using System.Globalization;
using LanguageExt;

namespace Nursery.Benchmarks;

/// <summary>Ways of feeding a worker: a sliding window of calls in flight, or one call at a time. Every result is checked; every wait is bounded.</summary>
internal static class Drive
{
    private static readonly TimeSpan Bound = WorkerScope.Bound;

    /// <summary>Sends <paramref name="first"/>..<paramref name="first"/>+<paramref name="count"/>-1, keeping up to <paramref name="window"/> calls in flight.</summary>
    public static async Task<TimeSpan> WindowedAsync(Worker<int, int> worker, int first, int count, int window)
    {
        var inFlight = new Task<Either<ChildFailure, int>>[window];
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            var slot = i % window;
            if (i >= window)
                Check(await inFlight[slot].WaitAsync(Bound), first + i - window);
            inFlight[slot] = worker.InvokeAsync(first + i);
        }
        for (var i = Math.Max(0, count - window); i < count; i++)
            Check(await inFlight[i % window].WaitAsync(Bound), first + i);
        return Stopwatch.GetElapsedTime(start);
    }

    /// <summary>Sends <paramref name="count"/> items one at a time, awaiting each reply before sending the next.</summary>
    public static async Task<TimeSpan> RoundTripsAsync(Worker<int, int> worker, int count)
    {
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
            Check(await worker.InvokeAsync(i).WaitAsync(Bound), i);
        return Stopwatch.GetElapsedTime(start);
    }

    /// <summary>Echoes <paramref name="payload"/> <paramref name="count"/> times with up to <paramref name="window"/> calls in flight.</summary>
    public static async Task<TimeSpan> EchoAsync(Worker<string, string> worker, string payload, int count, int window)
    {
        var inFlight = new Task<Either<ChildFailure, string>>[window];
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            var slot = i % window;
            if (i >= window)
                CheckEcho(await inFlight[slot].WaitAsync(Bound), payload);
            inFlight[slot] = worker.InvokeAsync(payload);
        }
        for (var i = Math.Max(0, count - window); i < count; i++)
            CheckEcho(await inFlight[i % window].WaitAsync(Bound), payload);
        return Stopwatch.GetElapsedTime(start);
    }

    private static void Check(Either<ChildFailure, int> result, int expected)
    {
        if (result.Match(static value => value, static _ => -1) != expected)
            throw new BenchmarkException(string.Create(CultureInfo.InvariantCulture, $"item {expected} came back as {Describe(result)}"));
    }

    private static void CheckEcho(Either<ChildFailure, string> result, string expected)
    {
        if (!string.Equals(result.Match(static value => value, static _ => ""), expected, StringComparison.Ordinal))
            throw new BenchmarkException($"an echoed payload came back wrong: {result.Match(value => $"a string of {value.Length} chars", failure => failure.ToString())}");
    }

    private static string Describe<T>(Either<ChildFailure, T> result) => result.Match(value => $"{value}", failure => failure.ToString());
}
