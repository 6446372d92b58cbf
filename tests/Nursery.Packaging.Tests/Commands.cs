using Nursery.Tests.Support;

namespace Nursery.Packaging.Tests;

/// <summary>Runs the dotnet CLI and the consumers it builds, bounded: a process that outlives its time is killed.</summary>
internal static class Commands
{
    public static async Task<(int ExitCode, string Output)> RunAsync(string directory, TimeSpan timeout, params string[] arguments)
    {
        var run = await ProcessRun.RunAsync(
            ProcessRun.Dotnet,
            arguments,
            directory,
            timeout,
            // The consumers must not see the repository's build (its props, its packages folder): only the packages.
            start =>
            {
                start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
                start.Environment["DOTNET_NOLOGO"] = "1";
                start.Environment.Remove("MSBuildExtensionsPath");
                start.Environment.Remove("MSBUILD_EXE_PATH");
                start.Environment.Remove("MSBuildSDKsPath");
            }
        );
        return run.TimedOut
            ? (-1, $"dotnet {string.Join(' ', arguments)} timed out after {timeout}\n{run.Stdout}\n{run.Stderr}")
            : (run.ExitCode, $"{run.Stdout}\n{run.Stderr}");
    }

    public static async Task<string> SucceedAsync(string directory, TimeSpan timeout, params string[] arguments)
    {
        var (exitCode, output) = await RunAsync(directory, timeout, arguments);
        Assert.True(exitCode == 0, $"dotnet {string.Join(' ', arguments)} exited with {exitCode}:\n{output}");
        return output;
    }
}
