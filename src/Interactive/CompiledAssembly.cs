using System.Reflection;

namespace Nursery;

/// <summary>
/// Source compiled by <see cref="Compile"/> into an assembly on disk and loaded into this process. Its static
/// functions are bodies that child processes load from <see cref="Path"/>, like those of any compiled library.
/// </summary>
public sealed class CompiledAssembly
{
    internal CompiledAssembly(string path, Assembly assembly, bool fromCache)
    {
        Path = path;
        Assembly = assembly;
        FromCache = fromCache;
    }

    /// <summary>The full path of the compiled assembly; the libraries it needs beyond the framework are in the same folder.</summary>
    public string Path { get; }

    /// <summary>The assembly, loaded into this process.</summary>
    public Assembly Assembly { get; }

    /// <summary>Whether the assembly came from the cache (the same source and references were compiled before) rather than from the compiler.</summary>
    public bool FromCache { get; }

    /// <summary>
    /// The static method <paramref name="name"/> ("Type.Method", or "Module.function" in F#; with the namespace if the
    /// source declares one) that takes a <typeparamref name="TIn"/> and returns a <typeparamref name="TOut"/>.
    /// </summary>
    /// <exception cref="ArgumentException">No such method: the message lists the methods of that name, or the types, that the assembly has.</exception>
    public Func<TIn, TOut> Function<TIn, TOut>(string name) => Find(name, typeof(TIn), typeof(TOut)).CreateDelegate<Func<TIn, TOut>>();

    /// <summary>
    /// A body from the static method <paramref name="name"/> (see <see cref="Function{TIn,TOut}"/>), checked by
    /// <see cref="Nursery.Body.From{TIn,TOut}(Func{TIn,TOut}, ICodec?)"/>: a child process loads it from <see cref="Path"/>.
    /// </summary>
    public Body<TIn, TOut> Body<TIn, TOut>(string name, ICodec? codec = null) => Nursery.Body.From(Function<TIn, TOut>(name), codec);

    /// <summary>A body from the static method <paramref name="name"/> that returns a <see cref="Task{TResult}"/>; the child awaits it.</summary>
    public Body<TIn, TOut> BodyAsync<TIn, TOut>(string name, ICodec? codec = null) =>
        Nursery.Body.FromAsync(Find(name, typeof(TIn), typeof(Task<TOut>)).CreateDelegate<Func<TIn, Task<TOut>>>(), codec);

    /// <summary>The path of the assembly.</summary>
    public override string ToString() => Path;

    private MethodInfo Find(string name, Type input, Type output)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var dot = name.LastIndexOf('.');
        if (dot <= 0 || dot == name.Length - 1)
            throw new ArgumentException($"'{name}' does not name a method: give \"Type.Method\" (C#) or \"Module.function\" (F#).", nameof(name));
        var typeName = name[..dot];
        var methodName = name[(dot + 1)..];
        var types = Assembly.GetTypes();
        // F# nests a module in a module as a nested class ("Outer+Inner"); the user writes "Outer.Inner".
        var type = types.FirstOrDefault(candidate => candidate.FullName?.Replace('+', '.') == typeName);
        if (type is null)
        {
            var known = types.Where(candidate => candidate.IsPublic || candidate.IsNestedPublic).Select(candidate => candidate.FullName!.Replace('+', '.'));
            throw new ArgumentException($"The compiled source has no type '{typeName}'. Its public types: {string.Join(", ", known)}.", nameof(name));
        }
        var methods = type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static).Where(method => method.Name == methodName).ToArray();
        var found = methods.FirstOrDefault(method => method.ReturnType == output && method.GetParameters() is [var parameter] && parameter.ParameterType == input);
        if (found is not null)
            return found;
        var signature = $"{output} {methodName}({input})";
        throw new ArgumentException(
            methods.Length == 0
                ? $"The type '{typeName}' of the compiled source has no static method '{methodName}'. A body is a static method: {signature}."
                : $"The type '{typeName}' has no static method {signature}; it has: {string.Join("; ", methods.Select(method => $"{method.ReturnType} {method.Name}({string.Join(", ", method.GetParameters().Select(parameter => parameter.ParameterType))})"))}.",
            nameof(name)
        );
    }
}
