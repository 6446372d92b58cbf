#:project ../../src/Dataflow/Nursery.Dataflow.csproj

// A .NET 10 file-based app: `dotnet run pipeline.cs`. The SDK compiles this file into a real assembly on disk, so
// the functions written here are bodies that child processes load, as they would be in a project.
using System.Globalization;
using Nursery;

var scope = new NurseryScope(new NurseryOptions { DefaultPolicy = Policy.Skip });
var parse = scope.Stage<string, int>(Work.Parse, new StageOptions { Name = "parse", Workers = 2 });
var square = scope.Stage<int, long>(Work.Square, new StageOptions { Name = "square", Workers = 2 });
var total = 0L;
parse.LinkTo(square);
square.LinkTo(scope.Sink<long>(x => total += x));

var result = await scope.RunAsync(["1", "2", "x", "4"], parse).WaitAsync(TimeSpan.FromMinutes(2));
Console.WriteLine(result);
Console.WriteLine($"sum of squares: {total}");
await scope.DisposeAsync();

var children = parse.ProcessIds.Concat(square.ProcessIds).ToList();
Console.WriteLine($"children: {string.Join(", ", children)} — all gone: {children.All(pid => !Directory.Exists($"/proc/{pid}"))}");
return result.Failed == 1 && total == 21 ? 0 : 1;

static class Work
{
    public static int Parse(string text) => int.Parse(text, CultureInfo.InvariantCulture);

    public static long Square(int x) => (long)x * x;
}
