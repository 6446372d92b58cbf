using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Nursery.Protocol;

namespace Nursery;

/// <summary>
/// Builds <see cref="Body{TIn,TOut}"/>s: code that runs in a child process. Checks everything that can be checked
/// here, when the body is built, and throws <see cref="ArgumentException"/> with what to do instead.
/// </summary>
public static class Body
{
    /// <summary>
    /// A body from a static method or a lambda that captures nothing (<c>x =&gt; x * 2</c>) in a compiled assembly.
    /// The child loads the assembly and runs the method there: static fields set in this process are not seen by it
    /// (the child's copy of the type starts from its initial values); pass what the body needs in the item or as an
    /// initializer's state (<see cref="Body{TIn,TOut}.WithInitializer{TState}(Action{TState}, TState)"/>).
    /// </summary>
    /// <exception cref="ArgumentException">
    /// The function captures variables, is an instance method of an object with state, lives in a dynamic assembly, or
    /// its input or output type cannot cross to a child process: a handle of this process (a <see cref="Stream"/> or
    /// <see cref="FileInfo"/>: pass a path; a task, token, delegate, pointer or span), <see cref="object"/>, an
    /// interface or abstract class with no known concrete type, or a type the codec cannot read back.
    /// </exception>
    public static Body<TIn, TOut> From<TIn, TOut>(Func<TIn, TOut> function, ICodec? codec = null) => Create<TIn, TOut>(function, codec ?? new JsonCodec());

    /// <summary>An asynchronous body: the child awaits the task. Same rules as <see cref="From{TIn,TOut}(Func{TIn,TOut}, ICodec?)"/>.</summary>
    public static Body<TIn, TOut> FromAsync<TIn, TOut>(Func<TIn, Task<TOut>> function, ICodec? codec = null) => Create<TIn, TOut>(function, codec ?? new JsonCodec());

    /// <summary>
    /// A body that takes the item's <see cref="CancellationToken"/>: when the item's deadline passes, the caller cancels
    /// or the run aborts, the parent asks the child to stop the item and the token is cancelled there. A body that
    /// returns (or throws) within <see cref="WorkerOptions.KillGrace"/> leaves its child alive to serve the next item;
    /// one that does not is killed then. Same rules as <see cref="From{TIn,TOut}(Func{TIn,TOut}, ICodec?)"/>.
    /// </summary>
    /// <exception cref="ArgumentException">As for <see cref="From{TIn,TOut}(Func{TIn,TOut}, ICodec?)"/>.</exception>
    public static Body<TIn, TOut> From<TIn, TOut>(Func<TIn, CancellationToken, TOut> function, ICodec? codec = null) => Create<TIn, TOut>(function, codec ?? new JsonCodec(), takesToken: true);

    /// <summary>An asynchronous body that takes the item's <see cref="CancellationToken"/>; see <see cref="From{TIn,TOut}(Func{TIn, CancellationToken, TOut}, ICodec?)"/>.</summary>
    /// <exception cref="ArgumentException">As for <see cref="From{TIn,TOut}(Func{TIn,TOut}, ICodec?)"/>.</exception>
    public static Body<TIn, TOut> FromAsync<TIn, TOut>(Func<TIn, CancellationToken, Task<TOut>> function, ICodec? codec = null) => Create<TIn, TOut>(function, codec ?? new JsonCodec(), takesToken: true);

    /// <summary>Whether a child process can load the assembly from a file (not emitted in memory, as F# Interactive's are).</summary>
    private static bool CanBeLoadedByAChild(Assembly assembly) => !assembly.IsDynamic && !string.IsNullOrEmpty(assembly.Location);

    private static Body<TIn, TOut> Create<TIn, TOut>(Delegate function, ICodec codec, bool takesToken = false)
    {
        ArgumentNullException.ThrowIfNull(function);
        var spec = Describe(function, "body");
        EnsureOnWire(codec, typeof(TIn), "input");
        EnsureOnWire(codec, typeof(TOut), "output");
        EnsureCodecCanBeCreated(codec);
        return new Body<TIn, TOut>(spec, null, null, codec, takesToken: takesToken);
    }

    internal static MethodSpec Describe(Delegate function, string role)
    {
        if (function.GetInvocationList().Length > 1)
            throw new ArgumentException($"The {role} is a multicast delegate; give one method.", nameof(function));
        var method = function.Method;
        var assembly = method.Module.Assembly;
        var name = DescribeMethod(method);
        if (!CanBeLoadedByAChild(assembly))
        {
            throw new ArgumentException(
                $"The {role} {name} is defined in a dynamic assembly ('{assembly.GetName().Name}'), such as F# Interactive, a notebook cell or Reflection.Emit code, "
                    + "which a child process cannot load. Three ways work: in a notebook or a script, compile the function's source for real with Nursery.Interactive "
                    + "(Compile.CSharp(source) or Compile.FSharp(source), then .Body<TIn, TOut>(\"Type.Method\")); put the function in a compiled library and reference it "
                    + "(#r \"path/to/Library.dll\" in a notebook); or run it as a command stage (any executable or script that reads stdin and writes stdout).",
                nameof(function)
            );
        }
        if (method.IsGenericMethod || (method.DeclaringType?.ContainsGenericParameters ?? false) || (method.DeclaringType?.IsGenericType ?? false))
        {
            throw new ArgumentException(
                $"The {role} {name} is generic; a child process needs one concrete method. Write a non-generic static method that calls it.",
                nameof(function)
            );
        }
        if (method.DeclaringType is null)
            throw new ArgumentException($"The {role} {name} is a global method; give a method declared in a type.", nameof(function));

        if (method.IsStatic)
            return new MethodSpec(assembly.Location, method.DeclaringType.FullName!, method.Name, method.MetadataToken, IsStatic: true, ModuleVersionId(method));

        var target = function.Target!;
        var fields = target.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
        if (fields.Length > 0)
        {
            // Compiler caches of nested lambdas ("<>9__1") are not the user's variables.
            var captured = string.Join(", ", fields.Where(field => !field.Name.StartsWith("<>9__", StringComparison.Ordinal)).Select(field => $"'{CapturedName(field)}'"));
            var what = IsCompilerGenerated(target.GetType()) ? $"captures {captured}" : $"is an instance method of {target.GetType()}, whose fields ({captured}) live in this process";
            throw new ArgumentException(
                $"The {role} {name} {what}. A child process cannot see this process's variables. "
                    + "Use a static method or a lambda that captures nothing, and pass what it needs in the item itself, "
                    + "or as serializable state given to an initializer (Body.WithInitializer(initializer, state)) that the child runs once before its first item. "
                    + "In a notebook, a function written in a cell runs in a child once its source is compiled with Nursery.Interactive "
                    + "(Compile.CSharp(source) or Compile.FSharp(source), then .Body<TIn, TOut>(\"Type.Method\")), with what it needs in the item or the state.",
                nameof(function)
            );
        }
        if (target.GetType() != method.DeclaringType)
            throw new ArgumentException($"The {role} {name} is bound to an object of another type ({target.GetType()}); use a static method.", nameof(function));
        return new MethodSpec(assembly.Location, method.DeclaringType.FullName!, method.Name, method.MetadataToken, IsStatic: false, ModuleVersionId(method));
    }

    private static string ModuleVersionId(MethodInfo method) => method.Module.ModuleVersionId.ToString("N");

    private const string PlainData = "Use a plain data type (records, primitives, arrays, lists, dictionaries) for what crosses to and from the child.";

    /// <summary>Refuses a type whose values cannot be re-created in a child (<see cref="Crossing"/>) or that the codec cannot round-trip.</summary>
    internal static void EnsureOnWire(ICodec codec, Type type, string role)
    {
        if (Crossing.WhyNot(type) is { } reason)
            throw new ArgumentException($"The body's {role} type {type} cannot be sent between processes: {reason}. {PlainData}");
        if (FSharpTypes.HasNullCase(type))
        {
            // An item travels as a LanguageExt Either, which holds no null: every None would fail as a null item.
            throw new ArgumentException(
                $"The body's {role} type {type} has a case that is null at run time (an F# option's None), and an item or result cannot be null. "
                    + "Use a value option (ValueOption: 'T voption, ValueSome/ValueNone), or put the option in a record; options inside records, lists and unions cross as they are."
            );
        }
        try
        {
            codec.EnsureSupported(type);
        }
        catch (NotSupportedException exception)
        {
            throw new ArgumentException(
                $"The body's {role} type {type} cannot be sent between processes with {codec.GetType().Name}: {exception.Message} "
                    + PlainData,
                exception
            );
        }
    }

    internal static string SerializeState<TState>(TState state)
    {
        try
        {
            new JsonCodec().EnsureSupported(typeof(TState));
            return JsonSerializer.Serialize(state, ProtocolJson.Options);
        }
        catch (Exception exception) when (exception is NotSupportedException or JsonException or InvalidOperationException)
        {
            throw new ArgumentException(
                $"The initializer's state of type {typeof(TState)} cannot be serialized to JSON for the child: {exception.Message} Pass plain data (paths, settings, numbers), and let the initializer open files or connections itself.",
                nameof(state),
                exception
            );
        }
    }

    private static void EnsureCodecCanBeCreated(ICodec codec)
    {
        var type = codec.GetType();
        if (type.GetConstructor(Type.EmptyTypes) is null || type.Assembly.IsDynamic || string.IsNullOrEmpty(type.Assembly.Location))
            throw new ArgumentException($"The codec {type} needs a public parameterless constructor in a compiled assembly, so the child can create the same codec.", nameof(codec));
    }

    private static string DescribeMethod(MethodInfo method) => $"'{method.DeclaringType?.FullName}.{method.Name}'";

    private static bool IsCompilerGenerated(Type type) => type.IsDefined(typeof(CompilerGeneratedAttribute), inherit: false) || type.Name.Contains('<', StringComparison.Ordinal) || type.Name.Contains('@', StringComparison.Ordinal);

    private static string CapturedName(FieldInfo field)
    {
        // C# names hoisted locals after the variable; "<>4__this" is the enclosing object.
        if (field.Name == "<>4__this")
            return "this";
        return field.Name;
    }
}
