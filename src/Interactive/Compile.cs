using Nursery.Compilation;

namespace Nursery;

/// <summary>
/// Compiles C# or F# source text (a notebook cell, a string in a script) into a real assembly on disk, so that its
/// functions can be bodies: a function typed in a cell lives in an assembly that only the kernel's memory holds, which
/// no child process can load; the same function compiled here is loaded by children like any library's. The assembly
/// is cached by a hash of the source, the references given and the compiler, so running the cell again costs nothing.
/// </summary>
public static class Compile
{
    /// <summary>
    /// Compiles C# source (classes with static methods, records, any types they use; <c>System</c>, <c>System.Linq</c>,
    /// <c>System.Collections.Generic</c>, <c>System.IO</c> and <c>System.Threading.Tasks</c> are imported) against the
    /// framework and every assembly this process has loaded, with Roslyn, and loads the result.
    /// </summary>
    /// <exception cref="CompilationException">The source does not compile; the message names each error's line.</exception>
    /// <exception cref="ArgumentException">An option is invalid (a reference that is not a file).</exception>
    public static CompiledAssembly CSharp(string source, CompileOptions? options = null) => CompileCache.Get(CSharpCompiler.Instance, source, options ?? new CompileOptions(), CancellationToken.None);

    /// <summary>
    /// Compiles F# source against the framework, FSharp.Core and every assembly this process has loaded, with the F#
    /// compiler of the installed .NET SDK (run as a process, bounded by <see cref="CompileOptions.CompilerTimeout"/>),
    /// and loads the result. Source without a <c>module</c> or <c>namespace</c> line is the module <c>Cell</c>.
    /// Blocks until the compiler is done; from async code use <see cref="FSharpAsync"/>.
    /// </summary>
    /// <exception cref="CompilationException">The source does not compile; the message names each error's line.</exception>
    /// <exception cref="InvalidOperationException">No .NET SDK with an F# compiler is installed next to the running runtime.</exception>
    public static CompiledAssembly FSharp(string source, CompileOptions? options = null) => CompileCache.Get(FSharpCompiler.Instance, source, options ?? new CompileOptions(), CancellationToken.None);

    /// <summary>The same as <see cref="FSharp"/>, on a thread of the pool; cancelling the token kills the compiler.</summary>
    public static Task<CompiledAssembly> FSharpAsync(string source, CompileOptions? options = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => CompileCache.Get(FSharpCompiler.Instance, source, options ?? new CompileOptions(), cancellationToken), cancellationToken);
}
