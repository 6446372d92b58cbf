using System.Diagnostics;
using Nursery.TestBodies;

namespace Nursery.Dataflow.Tests.Scenarios;

/// <summary>Sources are read lazily with backpressure: memory in the parent stays flat however many items pass.</summary>
public sealed class StreamingTests
{
    private static readonly long Items = long.TryParse(Environment.GetEnvironmentVariable("NURSERY_STREAM_ITEMS"), out var n) ? n : 1_000_000;

    [Fact]
    public async Task A_million_items_through_two_stages_keep_parent_memory_flat()
    {
        var samples = new List<(long Read, long Bytes)>();
        var read = 0L;
        IEnumerable<long> Source()
        {
            for (var i = 0L; i < Items; i++)
            {
                read = i;
                if (i % (Items / 20) == 0)
                {
                    GC.Collect();
                    samples.Add((i, Process.GetCurrentProcess().WorkingSet64));
                }
                yield return i;
            }
        }
        var sum = 0L;
        await using var scope = new NurseryScope(new NurseryOptions { MaxRecords = 1000 });
        var first = scope.Stage<long, long>(PipelineBodies.Increment, new StageOptions { Workers = 1, ItemsPerWorker = 256 });
        var second = scope.Stage<long, long>(PipelineBodies.Increment, new StageOptions { Workers = 1, ItemsPerWorker = 256 });
        var sink = scope.Sink<long>(x => sum += x);
        first.LinkTo(second);
        second.LinkTo(sink);

        var result = await scope.RunAsync(Source(), first).WaitAsync(TimeSpan.FromMinutes(5));

        Assert.True(result.Completed, result.ToString());
        Assert.True(result.Succeeded == Items, $"{result.Succeeded} of {Items} succeeded; read {read}: {result}");
        Assert.Equal((Items * (Items - 1) / 2) + (2 * Items), sum);
        var warm = samples.Skip(2).ToArray();
        var growth = warm.Max(s => s.Bytes) - warm.Min(s => s.Bytes);
        Assert.True(growth < 64L << 20, $"working set grew by {growth >> 20} MiB while streaming: {string.Join(", ", warm.Select(s => $"{s.Read}:{s.Bytes >> 20}MiB"))}");
    }
}
