using System.Buffers;
using System.Diagnostics;
using System.Globalization;

namespace Nursery.Benchmarks;

/// <summary>
/// Row 6, context only: the same work without a child process. A direct call of the identity function, and the
/// JSON codec work both processes do per item (encode the input, decode it, encode the result, decode it).
/// </summary>
internal static class InProcess
{
    public static async Task<IReadOnlyList<Row>> RunAsync(Plan plan, Row batched, TextWriter progress)
    {
        Func<int, int> identity = BenchBodies.Identity;
        List<double> calls = [], codecInts = [], codecStrings = [];
        var codec = new JsonCodec();
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        var payload = Throughput.TenKibText();
        var stringItems = Math.Max(1, plan.CodecItems / 100);
        for (var run = -1; run < plan.Runs; run++)
        {
            var start = Stopwatch.GetTimestamp();
            long sum = 0;
            for (var i = 0; i < plan.InProcessCalls; i++)
                sum += identity(i);
            var elapsed = Stopwatch.GetElapsedTime(start);
            if (sum != (long)plan.InProcessCalls * (plan.InProcessCalls - 1) / 2)
                throw new BenchmarkException("the in-process sum is wrong");
            var callRate = plan.InProcessCalls / elapsed.TotalSeconds;

            start = Stopwatch.GetTimestamp();
            for (var i = 0; i < plan.CodecItems; i++)
            {
                if (RoundTrip(codec, buffer, i) != i)
                    throw new BenchmarkException("the codec round trip changed an int");
            }
            var intRate = plan.CodecItems / Stopwatch.GetElapsedTime(start).TotalSeconds;

            start = Stopwatch.GetTimestamp();
            for (var i = 0; i < stringItems; i++)
            {
                if (RoundTrip(codec, buffer, payload).Length != payload.Length)
                    throw new BenchmarkException("the codec round trip changed a string");
            }
            var stringRate = (double)stringItems * payload.Length / Stopwatch.GetElapsedTime(start).TotalSeconds / 1e6;

            await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  in-process, {(run < 0 ? "warm-up" : $"run {run + 1}/{plan.Runs}")}: calls {callRate:N0}/s, codec int {intRate:N0}/s, codec 10 KiB {stringRate:N1} MB/s"));
            if (run < 0)
                continue;
            calls.Add(callRate);
            codecInts.Add(intRate);
            codecStrings.Add(stringRate);
        }
        var callSample = new Sample(calls);
        var codecSample = new Sample(codecInts);
        return
        [
            Row.Measured(
                "6a",
                string.Create(CultureInfo.InvariantCulture, $"context: the identity function called in-process through a Func<int,int>, {plan.InProcessCalls:N0} calls/run"),
                callSample,
                Unit.ItemsPerSecond,
                Throughput.Ratio("6a ÷ 1a", callSample.Median, batched.Median)
            ),
            Row.Measured(
                "6b",
                string.Create(CultureInfo.InvariantCulture, $"context: JsonCodec work per int item in one thread (encode, decode, encode, decode), {plan.CodecItems:N0} items/run"),
                codecSample,
                Unit.ItemsPerSecond,
                Throughput.Ratio("6b ÷ 1a", codecSample.Median, batched.Median)
            ),
            Row.Measured("6c", string.Create(CultureInfo.InvariantCulture, $"context: JsonCodec work per 10 KiB string in one thread (encode, decode, encode, decode), {stringItems:N0} items/run"), new Sample(codecStrings), Unit.MegabytesPerSecond),
        ];
    }

    private static T RoundTrip<T>(JsonCodec codec, ArrayBufferWriter<byte> buffer, T value)
    {
        buffer.ResetWrittenCount();
        codec.Serialize(value, buffer);
        var received = codec.Deserialize<T>(new ReadOnlySequence<byte>(buffer.WrittenMemory));
        buffer.ResetWrittenCount();
        codec.Serialize(received, buffer);
        return codec.Deserialize<T>(new ReadOnlySequence<byte>(buffer.WrittenMemory));
    }
}
