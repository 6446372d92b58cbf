using System.Collections.Concurrent;
using Nursery.TestBodies;
using Nursery.Tests.Support;

namespace Nursery.Dataflow.Tests.Scenarios;

/// <summary>
/// A stage with its default batches (many items per child at once) under crashes in the middle of batches: every
/// item is accounted for once, a crashed item is retried by itself, the others are re-sent or kept, and an ordered
/// stage still delivers in the source's order.
/// </summary>
public sealed class BatchedStageTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Crashes_in_the_middle_of_batches_are_retried_alone_and_every_item_arrives_once(bool ordered)
    {
        var markers = Directory.CreateTempSubdirectory("nursery-batch-markers-");
        try
        {
            const int count = 1_000;
            var seen = new ConcurrentQueue<int>();
            await using var scope = new NurseryScope(Pipelines.Quick(Policy.Retry(2).WithBackoff(TimeSpan.Zero)));
            var options = new StageOptions
            {
                Workers = 2,
                Ordered = ordered,
                RestartIntensity = new RestartIntensity(50, TimeSpan.FromSeconds(60)),
                Worker = new WorkerOptions { Environment = new Dictionary<string, string> { ["MARKER_DIR"] = markers.FullName } },
            };
            var stage = scope.Stage<int, int>(PipelineBodies.CrashOnceOn37s, options);
            var sink = scope.Sink<int>(seen.Enqueue);
            stage.LinkTo(sink);

            var result = await scope.RunAsync(Enumerable.Range(0, count), stage).WaitAsync(Bound);

            Assert.True(result.Completed, result.ToString());
            Assert.True(result.IsBalanced, result.ToString());
            Assert.Equal(count, result.Succeeded);
            var values = seen.ToArray();
            Assert.Equal(Enumerable.Range(0, count).Select(x => x * 10), ordered ? values : values.Order());
            var crashed = Enumerable.Range(0, count).Where(x => x % 100 == 37).Select(x => x.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            foreach (var key in crashed)
            {
                Assert.Contains(result.Records, record => record.Key == key && record.Attempt == 1 && record.Outcome == ItemOutcome.Failed(FailureKind.Crashed));
                Assert.Contains(result.Records, record => record.Key == key && record.Attempt == 2 && record.Outcome == ItemOutcome.Succeeded);
            }
            // Only the items that crashed took a second attempt: the others of their batch were re-sent, not retried.
            Assert.All(result.Records.Where(record => record.Attempt > 1), record => Assert.Contains(record.Key, crashed));
            Assert.True(stage.Runner.Spawns >= 2 + crashed.Length, $"each crash needs a replacement child; saw {stage.Runner.Spawns} starts");
            await Processes.AssertAllGoneAsync(stage.ProcessIds);
        }
        finally
        {
            markers.Delete(recursive: true);
        }
    }
}
