using Nursery;

await using var scope = new NurseryScope(new NurseryOptions { DefaultPolicy = Policy.Retry(3).ThenSkip() });
var parse = scope.Stage<string, int>(Work.Parse, new StageOptions { Workers = 2, Worker = new() { ItemTimeout = TimeSpan.FromSeconds(5) } });
var square = scope.Stage<int, long>(Work.Square, new StageOptions { Workers = 2, Worker = new() { MemoryLimit = 256L << 20 } });
var total = 0L;
var sum = scope.Sink<long>(x => total += x);
parse.LinkTo(square);
square.LinkTo(sum);

var result = await scope.RunAsync(["1", "2", "x", "4"], parse);
Console.WriteLine(result); // completed: 4 inputs, 3 succeeded, 1 failed, and the Faulted report with the child's stack trace
Console.WriteLine($"sum of squares: {total}"); // 21

static class Work
{
    public static int Parse(string text) => int.Parse(text);

    public static long Square(int x) => (long)x * x;
}
