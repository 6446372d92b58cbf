using System.Reflection;
using System.Runtime.Loader;

namespace Nursery.ChildHost;

/// <summary>
/// Loads the user's assembly with its own dependencies (resolved from its deps.json), sharing Nursery.Core and the
/// framework with the host so both sides agree on the library's types.
/// </summary>
internal sealed class BodyLoadContext(string assemblyPath) : AssemblyLoadContext(name: Path.GetFileName(assemblyPath), isCollectible: false)
{
    // Made when first needed: reading the deps.json costs a fresh child milliseconds, and a body whose assembly needs
    // nothing beyond Nursery and the framework never asks.
    private AssemblyDependencyResolver? _resolver;

    private AssemblyDependencyResolver Resolver => _resolver ??= new AssemblyDependencyResolver(assemblyPath);

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (assemblyName.Name is "Nursery.Core" or "Nursery.ChildHost")
            return null;
        foreach (var loaded in Default.Assemblies)
        {
            if (AssemblyName.ReferenceMatchesDefinition(assemblyName, loaded.GetName()) && loaded.GetName().Version >= assemblyName.Version)
                return null;
        }
        var path = Resolver.ResolveAssemblyToPath(assemblyName);
        return path is null ? null : LoadFromAssemblyPath(path);
    }

    protected override nint LoadUnmanagedDll(string unmanagedDllName)
    {
        var path = Resolver.ResolveUnmanagedDllToPath(unmanagedDllName);
        return path is null ? 0 : LoadUnmanagedDllFromPath(path);
    }
}
