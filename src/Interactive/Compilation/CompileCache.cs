using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.Loader;
using System.Security.Cryptography;
using System.Text;

namespace Nursery.Compilation;

/// <summary>
/// One folder per compiled source, named by a hash of what decides the output: the language, the compiler, the
/// runtime, the source and the references given (with their sizes and times). A folder appears whole or not at all
/// (compiled elsewhere, then moved), so a second compile of the same source, in this process or another, loads it.
/// </summary>
internal static class CompileCache
{
    private const string Prefix = "nursery-cell-";

    /// <summary>Folders whose libraries this process may need to load (FSharp.Core for an F# cell in a C# program).</summary>
    private static readonly ConcurrentDictionary<string, byte> Folders = new(StringComparer.Ordinal);

    private static readonly ConcurrentDictionary<string, Assembly> Loaded = new(StringComparer.Ordinal);

    private static int _resolving;

    public static bool IsCompiledName(string? name) => name?.StartsWith(Prefix, StringComparison.Ordinal) ?? false;

    public static CompiledAssembly Get(ILanguageCompiler compiler, string source, CompileOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var key = Key(compiler, source, options);
        var name = $"{Prefix}{compiler.Extension}-{key[..20]}";
        var cache = Path.GetFullPath(options.ResolvedCacheDirectory);
        var folder = Path.Combine(cache, name);
        var assemblyPath = Path.Combine(folder, name + ".dll");
        var fromCache = File.Exists(assemblyPath);
        if (!fromCache)
            Build(compiler, source, options, name, cache, folder, cancellationToken);
        return new CompiledAssembly(assemblyPath, Load(assemblyPath), fromCache);
    }

    private static string Key(ILanguageCompiler compiler, string source, CompileOptions options)
    {
        var key = new StringBuilder();
        key.AppendLine("nursery compile 1");
        key.AppendLine(compiler.Identity);
        key.AppendLine(ReferenceSet.FrameworkDirectory);
        foreach (var reference in options.References.Select(Path.GetFullPath).Order(StringComparer.Ordinal))
        {
            var file = new FileInfo(reference);
            key.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"{reference} {file.Length} {file.LastWriteTimeUtc.Ticks}");
        }
        key.AppendLine(source);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key.ToString())));
    }

    private static void Build(ILanguageCompiler compiler, string source, CompileOptions options, string name, string cache, string folder, CancellationToken cancellationToken)
    {
        var references = ReferenceSet.Current(options.References);
        compiler.AddLanguageReferences(references);
        var building = Path.Combine(cache, $"{name}.building-{Guid.NewGuid():N}");
        Directory.CreateDirectory(building);
        try
        {
            var sourceName = $"Cell.{compiler.Extension}";
            var sourcePath = Path.Combine(building, sourceName);
            File.WriteAllText(sourcePath, source);
            var output = Path.Combine(building, name + ".dll");
            compiler.Compile(sourcePath, Path.Combine(folder, sourceName), name, output, references, options.ResolvedCompilerTimeout, cancellationToken);
            CopyDependencies(output, building, references);
            try
            {
                Directory.Move(building, folder);
            }
            catch (IOException) when (File.Exists(Path.Combine(folder, name + ".dll")))
            {
                // Another compile of the same source got there first; its folder is as good as this one.
            }
        }
        finally
        {
            if (Directory.Exists(building))
                Directory.Delete(building, recursive: true);
        }
    }

    /// <summary>
    /// Copies next to the compiled assembly every library it needs (directly or not) that a child's runtime does not
    /// have: the child host loads the assembly with the folder as its only place to look.
    /// </summary>
    private static void CopyDependencies(string assemblyPath, string folder, ReferenceSet references)
    {
        var pending = new Stack<string>([assemblyPath]);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        while (pending.TryPop(out var current))
        {
            foreach (var dependency in ReferenceSet.ReferencedNames(current))
            {
                if (!seen.Add(dependency) || dependency is "Nursery.Core" || references.Find(dependency) is not { } path || ReferenceSet.IsShared(path))
                    continue;
                var copy = Path.Combine(folder, Path.GetFileName(path));
                File.Copy(path, copy, overwrite: true);
                pending.Push(copy);
            }
        }
    }

    private static Assembly Load(string assemblyPath)
    {
        if (Interlocked.Exchange(ref _resolving, 1) == 0)
            AssemblyLoadContext.Default.Resolving += FromCompiledFolders;
        Folders.TryAdd(Path.GetDirectoryName(assemblyPath)!, 0);
        return Loaded.GetOrAdd(assemblyPath, AssemblyLoadContext.Default.LoadFromAssemblyPath);
    }

    private static Assembly? FromCompiledFolders(AssemblyLoadContext context, AssemblyName name)
    {
        foreach (var folder in Folders.Keys)
        {
            var candidate = Path.Combine(folder, name.Name + ".dll");
            if (File.Exists(candidate))
                return context.LoadFromAssemblyPath(candidate);
        }
        return null;
    }
}
