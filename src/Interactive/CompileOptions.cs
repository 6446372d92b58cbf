namespace Nursery;

/// <summary>How <see cref="Compile"/> compiles source text: what it references beyond what this process has loaded, and where the cache is.</summary>
public sealed record CompileOptions
{
    /// <summary>
    /// Paths of assemblies the source uses that this process has not loaded. Their sizes and times are part of the cache
    /// key, so a rebuilt library is compiled against again. Assemblies this process has loaded are referenced anyway.
    /// </summary>
    public IReadOnlyList<string> References { get; init; } = [];

    /// <summary>
    /// The folder that holds one sub-folder per compiled source (the assembly, its pdb and the libraries it needs).
    /// Null: <c>NURSERY_COMPILE_CACHE</c> if set, else <c>nursery/compiled</c> in the user's local application data.
    /// </summary>
    public string? CacheDirectory { get; init; }

    /// <summary>How long the F# compiler may run before it is killed and the compilation fails. Null: two minutes.</summary>
    public TimeSpan? CompilerTimeout { get; init; }

    internal string ResolvedCacheDirectory
    {
        get
        {
            if (CacheDirectory is not null)
                return CacheDirectory;
            if (Environment.GetEnvironmentVariable("NURSERY_COMPILE_CACHE") is { Length: > 0 } fromEnvironment)
                return fromEnvironment;
            var local = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create);
            return Path.Combine(local.Length > 0 ? local : Path.GetTempPath(), "nursery", "compiled");
        }
    }

    internal TimeSpan ResolvedCompilerTimeout => CompilerTimeout ?? TimeSpan.FromMinutes(2);

    internal void Validate()
    {
        if (References is null)
            throw new ArgumentException("CompileOptions.References is null; give an empty list for none.", nameof(References));
        foreach (var reference in References)
        {
            if (string.IsNullOrWhiteSpace(reference) || !File.Exists(reference))
                throw new ArgumentException($"CompileOptions.References names '{reference}', which is not a file; give the full path of an assembly (.dll).", nameof(References));
        }
        if (CompilerTimeout is { } timeout && timeout <= TimeSpan.Zero)
            throw new ArgumentException($"CompileOptions.CompilerTimeout is {timeout}; give a positive time, or null for two minutes.", nameof(CompilerTimeout));
    }
}
