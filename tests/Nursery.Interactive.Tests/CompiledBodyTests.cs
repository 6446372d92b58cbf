using Nursery.Tests.Support;

namespace Nursery.Interactive.Tests;

/// <summary>
/// Source compiled by <see cref="Compile"/> runs as a stage body in real child processes, with the same failures as
/// a compiled library's: results come back, a throw comes back Faulted with the child's stack trace (file and line of
/// the source), and every child is gone after the run.
/// </summary>
public sealed class CompiledBodyTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);
    private readonly DirectoryInfo _cache = Directory.CreateTempSubdirectory("nursery-compile-tests-");

    private CompileOptions Options => new() { CacheDirectory = _cache.FullName };

    // An assembly is loaded once per name, and the name comes from the source's hash: each test compiles a source of
    // its own, so that no test is handed an assembly another test loaded from its (deleted) folder.
    private readonly string _mark = $"{Environment.NewLine}// {Guid.NewGuid():N}{Environment.NewLine}";

    private string CSharpBodies => CSharpSource + _mark;

    private string FSharpBodies => FSharpSource + _mark;

    public void Dispose() => _cache.Delete(recursive: true);

    private const string CSharpSource = """
        namespace Cells;

        public sealed record Order(string Name, int Quantity);

        public static class Bodies
        {
            public static int Square(int x) => x * x;

            // A type of the source used inside the body.
            public static string Describe(int x) => new Order("item", x) with { Quantity = x * 2 } is var order ? $"{order.Name}:{order.Quantity}" : "";

            public static int FailOnThree(int x)
            {
                if (x == 3)
                    throw new InvalidOperationException("three is not allowed");
                return x;
            }
        }
        """;

    private const string FSharpSource = """
        module Cells.Bodies

        type Shape =
            | Circle of radius: float
            | Square of side: float

        let area shape =
            match shape with
            | Circle r -> System.Math.PI * r * r
            | Square s -> s * s

        let squareArea (side: float) = area (Square side)

        let failOnThree (x: int) =
            if x = 3 then failwith "three is not allowed"
            x
        """;

    [Fact]
    public async Task A_CSharp_function_typed_as_source_runs_in_child_processes()
    {
        var compiled = Compile.CSharp(CSharpBodies, Options);
        await using var scope = new NurseryScope(new NurseryOptions { DefaultPolicy = Policy.FailFast });
        var square = scope.Stage(compiled.Body<int, int>("Cells.Bodies.Square"), new StageOptions { Name = "square", Workers = 2 });
        var describe = scope.Stage(compiled.Body<int, string>("Cells.Bodies.Describe"), new StageOptions { Name = "describe", Workers = 1 });
        var seen = new List<string>();
        square.LinkTo(describe);
        describe.LinkTo(scope.Sink<string>(seen.Add));

        var result = await scope.RunAsync(Enumerable.Range(1, 5), square).WaitAsync(Bound);

        Assert.True(result.Completed, result.ToString());
        Assert.Equal(["item:2", "item:8", "item:18", "item:32", "item:50"], seen.OrderBy(text => int.Parse(text["item:".Length..])));
        Assert.DoesNotContain(Environment.ProcessId, square.ProcessIds);
        Assert.NotEmpty(square.ProcessIds);
        await scope.DisposeAsync();
        await Processes.AssertAllGoneAsync(square.ProcessIds.Concat(describe.ProcessIds));
    }

    [Fact]
    public async Task An_FSharp_function_and_the_union_it_uses_run_in_child_processes()
    {
        var compiled = Compile.FSharp(FSharpBodies, Options);
        await using var scope = new NurseryScope(new NurseryOptions { DefaultPolicy = Policy.FailFast });
        var area = scope.Stage(compiled.Body<double, double>("Cells.Bodies.squareArea"), new StageOptions { Name = "area", Workers = 2 });
        var seen = new List<double>();
        area.LinkTo(scope.Sink<double>(seen.Add));

        var result = await scope.RunAsync([1.0, 2.0, 3.0], area).WaitAsync(Bound);

        Assert.True(result.Completed, result.ToString());
        Assert.Equal([1.0, 4.0, 9.0], seen.Order());
        Assert.NotEmpty(area.ProcessIds);
        await scope.DisposeAsync();
        await Processes.AssertAllGoneAsync(area.ProcessIds);
    }

    [Fact]
    public async Task A_library_the_source_uses_that_the_child_host_lacks_is_copied_next_to_it_and_loaded_by_the_child()
    {
        // xunit.assert is loaded in this process (so the source compiles against it) but is not one of the child host's.
        const string source = """
            public static class Checked
            {
                public static int Positive(int x)
                {
                    Xunit.Assert.True(x > 0, $"{x} is not positive");
                    return x;
                }
            }
            """;
        var compiled = Compile.CSharp(source + _mark, Options);
        await using var scope = new NurseryScope(new NurseryOptions { DefaultPolicy = Policy.Skip });
        var stage = scope.Stage(compiled.Body<int, int>("Checked.Positive"), new StageOptions { Name = "checked", Workers = 1 });
        var seen = new List<int>();
        stage.LinkTo(scope.Sink<int>(seen.Add));

        var result = await scope.RunAsync([1, -1, 2], stage).WaitAsync(Bound);

        Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(compiled.Path)!, "xunit.assert.dll")));
        Assert.Equal([1, 2], seen.Order());
        var failure = Assert.IsType<ChildFailure.Faulted>(Assert.Single(result.Failures));
        Assert.Equal("Xunit.Sdk.TrueException", failure.Error.Type);
        Assert.Contains("-1 is not positive", failure.Error.Message);
        await scope.DisposeAsync();
        await Processes.AssertAllGoneAsync(stage.ProcessIds);
    }

    [Theory]
    [InlineData("C#")]
    [InlineData("F#")]
    public async Task A_throw_in_a_compiled_body_comes_back_Faulted_with_the_childs_stack_trace(string language)
    {
        var (compiled, name) = language == "C#" ? (Compile.CSharp(CSharpBodies, Options), "Cells.Bodies.FailOnThree") : (Compile.FSharp(FSharpBodies, Options), "Cells.Bodies.failOnThree");
        await using var scope = new NurseryScope(new NurseryOptions { DefaultPolicy = Policy.Skip });
        var stage = scope.Stage(compiled.Body<int, int>(name), new StageOptions { Name = "fail", Workers = 1 });
        var seen = new List<int>();
        stage.LinkTo(scope.Sink<int>(seen.Add));

        var result = await scope.RunAsync([1, 2, 3, 4], stage).WaitAsync(Bound);

        Assert.Equal([1, 2, 4], seen.Order());
        var failure = Assert.IsType<ChildFailure.Faulted>(Assert.Single(result.Failures));
        Assert.Equal("2", failure.Key);
        Assert.Contains("three is not allowed", failure.Error.Message);
        Assert.NotEqual(Environment.ProcessId, failure.ProcessId);
        // The child's frames, with the source file the cache keeps and the line of the throw.
        var sourceFile = Path.Combine(Path.GetDirectoryName(compiled.Path)!, language == "C#" ? "Cell.cs" : "Cell.fs");
        Assert.Contains(name.Split('.')[^1], failure.Error.StackTrace);
        Assert.Contains($"{sourceFile}:line 15", failure.Error.StackTrace);
        await scope.DisposeAsync();
        await Processes.AssertAllGoneAsync(stage.ProcessIds);
    }
}
