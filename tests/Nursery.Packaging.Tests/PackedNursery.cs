using Nursery.Tests.Support;

namespace Nursery.Packaging.Tests;

/// <summary>
/// The six packages, packed once for this test class in Release (what users get, whatever this test's configuration:
/// an optimised F# build inlines small library functions into the consumer, which a Debug pack never shows) into a temporary folder,
/// with a nuget.config for consumers: Nursery.* from that folder only (package source mapping), everything else from
/// this machine's packages folder or nuget.org. Consumers restore into a packages folder of their own, so a package
/// of the same version cached by an earlier run is never used.
/// </summary>
public sealed class PackedNursery : IAsyncLifetime
{
    public static readonly string[] Projects = ["src/Core/Nursery.Core.csproj", "src/Dataflow/Nursery.Dataflow.csproj", "src/FSharp/Nursery.FSharp.fsproj", "src/Interactive/Nursery.Interactive.csproj", "src/Testing/Nursery.Testing.csproj", "src/Hosting/Nursery.Extensions.Hosting.csproj"];

    /// <summary>The package ids of <see cref="Projects"/>, in the same order.</summary>
    public static readonly string[] Ids = ["Nursery.Core", "Nursery.Dataflow", "Nursery.FSharp", "Nursery.Interactive", "Nursery.Testing", "Nursery.Extensions.Hosting"];

    public string Root { get; } = Directory.CreateTempSubdirectory("nursery-packaging-").FullName;

    public string Feed => Path.Combine(Root, "feed");

    public string Packages => Path.Combine(Root, "packages");

    public string NuGetConfig => Path.Combine(Root, "nuget.config");

    public string Version { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Feed);
        foreach (var project in Projects)
            await Commands.SucceedAsync(Repository.Root, TimeSpan.FromMinutes(3), "pack", project, "-c", "Release", "--no-restore", "-o", Feed, "-v", "q", "-nologo");
        var core = Directory.GetFiles(Feed, "Nursery.Core.*.nupkg").Single();
        Version = Path.GetFileNameWithoutExtension(core)["Nursery.Core.".Length..];
        var machinePackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        await File.WriteAllTextAsync(
            NuGetConfig,
            $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="nursery" value="{Feed}" />
                <add key="machine" value="{machinePackages}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="nursery"><package pattern="Nursery.*" /></packageSource>
                <packageSource key="machine"><package pattern="*" /></packageSource>
                <packageSource key="nuget.org"><package pattern="*" /></packageSource>
              </packageSourceMapping>
            </configuration>
            """
        );
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Root, recursive: true);
        return Task.CompletedTask;
    }
}
