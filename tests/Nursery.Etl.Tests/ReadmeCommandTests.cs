namespace Nursery.Etl.Tests;

/// <summary>The README's first command, exactly as written, run from the repository root (it builds the sample first: the bound allows for a slow build).</summary>
public sealed class ReadmeCommandTests
{
    [Fact]
    public async Task The_READMEs_first_command_runs_the_ETL_job_and_exits_0()
    {
        var readme = File.ReadAllLines(Path.Combine(EtlProcess.RepositoryRoot, "README.md"));
        var block = Array.FindIndex(readme, line => line.Trim() == "```sh");
        var command = readme[block + 1].Split('#')[0].Trim();
        Assert.Equal("dotnet run --project samples/Etl", command);
        var summaryPath = Path.Combine(EtlProcess.RepositoryRoot, "etl-out", "summary.json");
        if (File.Exists(summaryPath))
            File.Delete(summaryPath);
        var words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);

        var (exitCode, output) = await EtlProcess.RunAsync(EtlProcess.RepositoryRoot, TimeSpan.FromMinutes(5), words[0], words[1..]);

        Assert.True(exitCode == 0, output);
        var summary = EtlProcess.ReadSummary(summaryPath)!;
        Assert.Equal("completed", summary.Outcome);
        Assert.Equal(20_000, summary.Inputs);
        Assert.Equal(20_000, summary.Succeeded);
        var (orders, rejects) = EtlProcess.CountRows(summary.Database);
        Assert.Equal(20_000, orders + rejects);
        Assert.Equal(Path.Combine(EtlProcess.RepositoryRoot, "etl-out", "orders.db"), summary.Database);
        await EtlProcess.AssertNoChildLeftAsync(summary);
    }
}
