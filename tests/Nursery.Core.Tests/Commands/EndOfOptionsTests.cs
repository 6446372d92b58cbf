using Nursery.Tests.Support;

namespace Nursery.Tests.Commands;

/// <summary>An item in a per-item command's arguments that starts with '-' is an operand once the options are ended.</summary>
public sealed class EndOfOptionsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("nursery-eoo-").FullName;

    public EndOfOptionsTests() => File.WriteAllText(Path.Combine(_folder, "-E"), "the file named -E\n");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static PoolOptions Options() => new() { Workers = 1, Worker = Children.Options("cmd") };

    [Fact]
    public async Task Without_an_end_of_options_an_item_starting_with_a_dash_is_an_option_of_the_program()
    {
        var command = Command.PerItem<string, string>("cat", "{}") with { WorkingDirectory = _folder };

        var result = await RunAsync(command, "-E");

        // cat -E: an option (show line ends), and with no file cat reads its empty stdin.
        Assert.Equal("", result);
    }

    [Fact]
    public async Task With_an_end_of_options_an_item_starting_with_a_dash_is_an_operand()
    {
        var command = Command.PerItem<string, string>("cat", "{}").WithEndOfOptions() with { WorkingDirectory = _folder };

        var result = await RunAsync(command, "-E");

        Assert.Equal("the file named -E", result);
    }

    [Fact]
    public void The_end_of_options_goes_just_before_the_items_argument_and_only_once()
    {
        var ended = Command.PerItem<string, string>("grep", "-n", "{}", "{key}").WithEndOfOptions();
        var already = Command.PerItem<string, string>("grep", "-n", "--", "{}").WithEndOfOptions();

        Assert.Equal(["-n", "--", "-v", "k"], ended.ArgumentsFor("-v", "k"));
        Assert.Equal(["-n", "--", "-v"], already.ArgumentsFor("-v", "k"));
    }

    [Fact]
    public void An_end_of_options_without_an_argument_that_is_the_item_is_refused_with_what_to_do()
    {
        var error = Assert.Throws<ArgumentException>(() => Command.PerItem<string, string>("grep", "--regexp={}").WithEndOfOptions());

        Assert.Contains("write -- into its arguments", error.Message, StringComparison.Ordinal);
    }

    private static async Task<string> RunAsync(PerItemCommand<string, string> command, string item)
    {
        var runner = new PerItemRunner<string, string>(command, Options());
        string result;
        await using (runner)
            result = EitherAssert.Right(await runner.InvokeAsync(item, "k").WaitAsync(Children.Bound));
        foreach (var pid in runner.ProcessIds)
            await Processes.AssertGoneAsync(pid, TimeSpan.FromSeconds(5));
        return result;
    }
}
