namespace Nursery.Compilation;

/// <summary>One language's compiler: what identifies it in the cache key, and how it turns a source file into an assembly.</summary>
internal interface ILanguageCompiler
{
    /// <summary>"C#" or "F#", for messages.</summary>
    string Language { get; }

    /// <summary>"cs" or "fs": the source file's extension and a part of the assembly's name.</summary>
    string Extension { get; }

    /// <summary>What changes the output for the same source: the compiler's version and where it is.</summary>
    string Identity { get; }

    /// <summary>Adds what this language needs beyond the framework and the loaded assemblies (FSharp.Core).</summary>
    void AddLanguageReferences(ReferenceSet references);

    /// <summary>
    /// Compiles <paramref name="sourcePath"/> into <paramref name="outputPath"/> (pdb embedded, source file names as
    /// <paramref name="publishedSourcePath"/>), or throws <see cref="CompilationException"/>.
    /// </summary>
    void Compile(string sourcePath, string publishedSourcePath, string assemblyName, string outputPath, ReferenceSet references, TimeSpan timeout, CancellationToken cancellationToken);
}
