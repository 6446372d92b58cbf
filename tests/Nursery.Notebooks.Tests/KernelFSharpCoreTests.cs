using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.Json.Nodes;
using Nursery.Tests.Support;

namespace Nursery.Notebooks.Tests;

/// <summary>
/// The kernel holds its own FSharp.Core and refuses a library built against a later one ("Could not load file or
/// assembly 'FSharp.Core, Version=…'"), so Nursery.FSharp is built against one no later than the pinned kernel's, and
/// the folder the notebooks' children run from carries the kernel's own.
/// </summary>
public sealed class KernelFSharpCoreTests
{
    private static readonly string Bodies = Path.Combine(Repository.Root, "notebooks", "NotebookBodies", "bin", "Debug", "net10.0");

    [Fact]
    public async Task Nursery_FSharp_references_an_FSharp_Core_no_later_than_the_pinned_kernel_carries()
    {
        var kernel = AssemblyName.GetAssemblyName(await KernelFileAsync("FSharp.Core.dll")).Version!;

        var referenced = ReferencedVersion(Path.Combine(Bodies, "Nursery.FSharp.dll"), "FSharp.Core");

        Assert.True(referenced <= kernel, $"Nursery.FSharp is built against FSharp.Core {referenced}, later than the kernel's {kernel}: the kernel cannot load it. Lower FSharp.Core in Directory.Packages.props.");
    }

    [Fact]
    public async Task The_notebooks_children_run_from_a_folder_with_the_kernels_FSharp_Core()
    {
        var kernel = AssemblyName.GetAssemblyName(await KernelFileAsync("FSharp.Core.dll")).Version;

        var bodies = AssemblyName.GetAssemblyName(Path.Combine(Bodies, "FSharp.Core.dll")).Version;

        Assert.Equal(kernel, bodies);
    }

    private static Version ReferencedVersion(string assembly, string name)
    {
        using var stream = File.OpenRead(assembly);
        using var reader = new PEReader(stream);
        var metadata = reader.GetMetadataReader();
        return metadata
            .AssemblyReferences.Select(metadata.GetAssemblyReference)
            .Where(reference => metadata.GetString(reference.Name) == name)
            .Select(reference => reference.Version)
            .Single();
    }

    // The kernel's files, in the NuGet packages folder where `dotnet tool restore` puts the version the manifest pins.
    private static async Task<string> KernelFileAsync(string file)
    {
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(Repository.Root, ".config", "dotnet-tools.json")))!;
        var version = (string)manifest["tools"]!["microsoft.dotnet-interactive"]!["version"]!;
        await InteractiveKernel.RestoreToolsAsync(NotebookKernelRun.Bound);
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var path = Path.Combine(packages, "microsoft.dotnet-interactive", version, "tools", "net10.0", "any", file);
        Assert.True(File.Exists(path), $"{path} is missing after 'dotnet tool restore'");
        return path;
    }
}
