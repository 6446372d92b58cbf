using System.Reflection;
using System.Reflection.PortableExecutable;

namespace Nursery.Compilation;

/// <summary>
/// The assemblies a source is compiled against, one per simple name: the running framework, then what this process
/// has loaded from files (so a cell sees what the notebook has referenced with #r), then the references the user
/// gave. A later one replaces an earlier one of the same name.
/// </summary>
internal sealed class ReferenceSet
{
    /// <summary>The folder of the running Microsoft.NETCore.App.</summary>
    public static string FrameworkDirectory { get; } = Path.GetDirectoryName(typeof(object).Assembly.Location)!;

    private static readonly Lazy<IReadOnlyList<string>> Framework = new(() =>
        Directory.EnumerateFiles(FrameworkDirectory, "*.dll").Where(IsManaged).Order(StringComparer.Ordinal).ToArray());

    private readonly Dictionary<string, string> _byName = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The dotnet root: the folder that holds <c>shared/</c>, <c>sdk/</c> and the <c>dotnet</c> executable.</summary>
    public static string DotnetRoot { get; } = Path.GetFullPath(Path.Combine(FrameworkDirectory, "..", "..", ".."));

    public IEnumerable<string> Paths => _byName.Values.Order(StringComparer.Ordinal);

    public static ReferenceSet Current(IEnumerable<string> explicitReferences)
    {
        var set = new ReferenceSet();
        foreach (var path in Framework.Value)
            set.Add(path);
        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            // Earlier compiled sources are left out: two cells that both define `Bodies` would make the name ambiguous.
            if (assembly.IsDynamic || string.IsNullOrEmpty(assembly.Location) || CompileCache.IsCompiledName(assembly.GetName().Name))
                continue;
            set.Add(assembly.Location);
        }
        foreach (var path in explicitReferences)
            set.Add(Path.GetFullPath(path));
        return set;
    }

    public void Add(string path) => _byName[Path.GetFileNameWithoutExtension(path)] = path;

    public bool Contains(string name) => _byName.ContainsKey(name);

    public string? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>Whether a child gets this assembly from its own runtime (a shared framework), not from the compiled folder.</summary>
    public static bool IsShared(string path) => path.StartsWith(Path.Combine(DotnetRoot, "shared") + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    private static bool IsManaged(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new PEReader(stream);
            return reader.HasMetadata;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }

    /// <summary>The names of the assemblies an assembly file references.</summary>
    public static IEnumerable<string> ReferencedNames(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new PEReader(stream);
        var metadata = System.Reflection.Metadata.PEReaderExtensions.GetMetadataReader(reader);
        return metadata.AssemblyReferences.Select(handle => metadata.GetString(metadata.GetAssemblyReference(handle).Name)).ToArray();
    }

    /// <summary>The version of the assembly file, for cache keys.</summary>
    public static string VersionOf(Assembly assembly) => assembly.GetName().Version?.ToString() ?? "?";
}
