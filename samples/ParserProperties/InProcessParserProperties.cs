using FsCheck;
using FsCheck.Fluent;
using Nursery.Tests.Support;
using TinyParser;

namespace ParserProperties;

/// <summary>
/// The deep-nesting property without isolation, as FsCheck runs it on its own: the parser's stack overflow ends the
/// test host, so FsCheck never reports, let alone shrinks, the input, and every test after it in the run is lost. It
/// runs only in a child <c>dotnet test</c> started by <see cref="TheInProcessRunDies"/>.
/// </summary>
public sealed class InProcessDemo
{
    public const string Switch = "NURSERY_IN_PROCESS_DEMO";

    [InProcessDemoFact]
    public void Deep_nesting_parses_in_process() =>
        Prop.ForAll(Documents.Nested, nested => Parser.Parse(nested.Text()).Ok).QuickCheckThrowOnFailure();
}

/// <summary>Runs <see cref="InProcessDemo"/> in a child <c>dotnet test</c>, bounded, and reads how it ended.</summary>
public sealed class TheInProcessRunDies
{
    [Fact]
    public async Task Run_in_process_the_deep_nesting_property_takes_the_test_host_down_without_a_counterexample()
    {
        var assembly = typeof(InProcessDemo).Assembly.Location;

        var outcome = await ProcessRun.RunAsync(
            ProcessRun.Dotnet,
            ["test", assembly, "--filter", "FullyQualifiedName~InProcessDemo"],
            Path.GetDirectoryName(assembly)!,
            TimeSpan.FromMinutes(3),
            start => start.Environment[InProcessDemo.Switch] = "1"
        );

        var output = outcome.Stdout + outcome.Stderr;
        Assert.False(outcome.TimedOut, output);
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains("Stack overflow", output, StringComparison.Ordinal);
        Assert.Contains("Test host process crashed", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Shrunk", output, StringComparison.Ordinal);
    }
}

/// <summary>A fact that runs only in the child <c>dotnet test</c> of <see cref="TheInProcessRunDies"/> (it would end any run it is in).</summary>
public sealed class InProcessDemoFactAttribute : FactAttribute
{
    public InProcessDemoFactAttribute()
    {
        if (Environment.GetEnvironmentVariable(InProcessDemo.Switch) != "1")
            Skip = "ends the test host on purpose; run by TheInProcessRunDies in a child dotnet test";
    }
}
