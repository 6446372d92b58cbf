using Nursery.Protocol;

namespace Nursery;

/// <summary>
/// Code that runs in a child process: a method in a compiled assembly that takes a <typeparamref name="TIn"/>
/// and returns a <typeparamref name="TOut"/>, an optional initializer that runs once in each child, and the codec
/// items travel in. Immutable; build one with <see cref="Body.From{TIn,TOut}(Func{TIn,TOut}, ICodec?)"/>.
/// </summary>
public sealed class Body<TIn, TOut>
{
    internal Body(MethodSpec method, MethodSpec? initializer, string? stateJson, ICodec codec, string? name = null, bool takesToken = false)
    {
        TakesToken = takesToken;
        Method = method;
        Initializer = initializer;
        StateJson = stateJson;
        Codec = codec;
        _name = name;
    }

    /// <summary>The name given with <see cref="WithName"/>; null for the method's own.</summary>
    private readonly string? _name;

    internal MethodSpec Method { get; }

    /// <summary>Whether the body takes the item's cancellation token, so that a child can be asked to stop an item instead of being killed.</summary>
    public bool TakesToken { get; }

    internal MethodSpec? Initializer { get; }

    internal string? StateJson { get; }

    /// <summary>The codec items and results travel in.</summary>
    public ICodec Codec { get; }

    /// <summary>
    /// A readable name for logs and reports: the declaring type and method, or the name given with
    /// <see cref="WithName"/>. A stage takes the part after the last dot as its name unless its options name it.
    /// </summary>
    public string Name => _name ?? $"{Method.TypeName}.{Method.MethodName}";

    /// <summary>
    /// The same body under another <see cref="Name"/>: for a method whose own name says little (an F# closure's
    /// <c>Invoke</c>, a C# lambda's compiler-made name). What runs in the child does not change.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null, empty or white space.</exception>
    public Body<TIn, TOut> WithName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new Body<TIn, TOut>(Method, Initializer, StateJson, Codec, name, TakesToken);
    }

    /// <summary>
    /// Runs <paramref name="initializer"/> once in each child, with <paramref name="state"/> (sent as JSON), before its
    /// first item; like <c>multiprocessing.Pool(initializer, initargs)</c>. If it throws, the child fails to start (<see cref="ChildFailure.StartFailed"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The initializer captures variables or lives in a dynamic assembly, or the state cannot be serialized.</exception>
    public Body<TIn, TOut> WithInitializer<TState>(Action<TState> initializer, TState state)
    {
        ArgumentNullException.ThrowIfNull(initializer);
        return new Body<TIn, TOut>(Method, Body.Describe(initializer, "initializer"), Body.SerializeState(state), Codec, _name, TakesToken);
    }

    /// <summary>
    /// As <see cref="WithInitializer{TState}(Action{TState}, TState)"/> for an initializer that returns something: a
    /// <see cref="Task"/> is awaited in the child before its first item, any other result is ignored (an F# function
    /// <c>'state -&gt; unit</c>, which Nursery.FSharp's <c>Pipeline.withInitializer</c> passes here).
    /// </summary>
    /// <exception cref="ArgumentException">The initializer captures variables or lives in a dynamic assembly, or the state cannot be serialized.</exception>
    public Body<TIn, TOut> WithInitializer<TState, TResult>(Func<TState, TResult> initializer, TState state)
    {
        ArgumentNullException.ThrowIfNull(initializer);
        return new Body<TIn, TOut>(Method, Body.Describe(initializer, "initializer"), Body.SerializeState(state), Codec, _name, TakesToken);
    }

    /// <summary>Runs <paramref name="initializer"/> once in each child before its first item. Same rules as the stateful overload.</summary>
    public Body<TIn, TOut> WithInitializer(Action initializer)
    {
        ArgumentNullException.ThrowIfNull(initializer);
        return new Body<TIn, TOut>(Method, Body.Describe(initializer, "initializer"), null, Codec, _name, TakesToken);
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}
