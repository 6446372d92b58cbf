using Nursery.Protocol;

namespace Nursery;

/// <summary>
/// Code that runs in a child process: a method in a compiled assembly that takes a <typeparamref name="TIn"/>
/// and returns a <typeparamref name="TOut"/>, an optional initializer that runs once in each child, and the codec
/// items travel in. Immutable; build one with <see cref="Body.From{TIn,TOut}(Func{TIn,TOut}, ICodec?)"/>.
/// </summary>
public sealed class Body<TIn, TOut>
{
    internal Body(MethodSpec method, MethodSpec? initializer, string? stateJson, ICodec codec, bool takesToken = false)
    {
        TakesToken = takesToken;
        Method = method;
        Initializer = initializer;
        StateJson = stateJson;
        Codec = codec;
    }

    internal MethodSpec Method { get; }

    /// <summary>Whether the body takes the item's cancellation token, so that a child can be asked to stop an item instead of being killed.</summary>
    public bool TakesToken { get; }

    internal MethodSpec? Initializer { get; }

    internal string? StateJson { get; }

    /// <summary>The codec items and results travel in.</summary>
    public ICodec Codec { get; }

    /// <summary>A readable name for logs and reports: the declaring type and method.</summary>
    public string Name => $"{Method.TypeName}.{Method.MethodName}";

    /// <summary>
    /// Runs <paramref name="initializer"/> once in each child, with <paramref name="state"/> (sent as JSON), before its
    /// first item; like <c>multiprocessing.Pool(initializer, initargs)</c>. If it throws, the child fails to start (<see cref="ChildFailure.StartFailed"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The initializer captures variables or lives in a dynamic assembly, or the state cannot be serialized.</exception>
    public Body<TIn, TOut> WithInitializer<TState>(Action<TState> initializer, TState state)
    {
        ArgumentNullException.ThrowIfNull(initializer);
        return new Body<TIn, TOut>(Method, Body.Describe(initializer, "initializer"), Body.SerializeState(state), Codec, TakesToken);
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
        return new Body<TIn, TOut>(Method, Body.Describe(initializer, "initializer"), Body.SerializeState(state), Codec, TakesToken);
    }

    /// <summary>Runs <paramref name="initializer"/> once in each child before its first item. Same rules as the stateful overload.</summary>
    public Body<TIn, TOut> WithInitializer(Action initializer)
    {
        ArgumentNullException.ThrowIfNull(initializer);
        return new Body<TIn, TOut>(Method, Body.Describe(initializer, "initializer"), null, Codec, TakesToken);
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}
