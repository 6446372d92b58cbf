using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

namespace Nursery.Micro;

/// <summary>
/// BenchmarkDotNet micro-benchmarks of the hot parts of the wire: frames, batches, codecs and the per-item dispatch
/// path. <c>dotnet run -c Release --project bench/Nursery.Micro -- --filter '*'</c> (add <c>--job short</c> for a
/// quick run); <c>-- --sizes</c> prints how many bytes each codec puts on the wire for the benchmarked values.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is ["--sizes"])
        {
            PrintSizes();
            return 0;
        }
        // Results go under bin/ (ignored by git) unless --artifacts says otherwise.
        var config = DefaultConfig.Instance.WithArtifactsPath(Path.Combine(AppContext.BaseDirectory, "BenchmarkDotNet.Artifacts"));
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
        return summaries.Any(summary => summary.HasCriticalValidationErrors || summary.Reports.Any(report => !report.Success)) ? 1 : 0;
    }

    private static void PrintSizes()
    {
        Console.WriteLine("| value | JsonCodec bytes | MessagePackCodec bytes |");
        Console.WriteLine("|---|---:|---:|");
        foreach (var (name, json, messagePack) in Payloads.Sizes())
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {json:N0} | {messagePack:N0} |"));
    }
}
