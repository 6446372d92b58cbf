using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Nursery.Protocol;

namespace Nursery.ChildHost;

/// <summary>Finds the parent's methods in the user's assembly and makes them callable.</summary>
internal static class BodyLoader
{
    /// <summary>
    /// One load context per assembly path, under <see cref="ContextsGate"/>: a plain dictionary, because a
    /// ConcurrentDictionary would load System.Collections.Concurrent into every fresh child on its way to Ready.
    /// </summary>
    private static readonly Dictionary<string, BodyLoadContext> Contexts = [];

    private static readonly Lock ContextsGate = new();

    public static IBodyInvoker LoadBody(MethodSpec spec, string codecTypeName)
    {
        var method = Resolve(spec);
        var parameters = method.GetParameters();
        // A second parameter, when there is one, is the item's cancellation token (the parent's Stop frames cancel it).
        var takesToken = parameters.Length == 2 && parameters[1].ParameterType == typeof(CancellationToken);
        if ((parameters.Length != 1 && !takesToken) || method.ReturnType == typeof(void))
            throw new InvalidOperationException($"The body {spec.TypeName}.{spec.MethodName} must take one argument (and optionally a CancellationToken) and return a value; it takes {parameters.Length} and returns {method.ReturnType}.");
        var codec = CreateCodec(codecTypeName, ContextFor(spec.AssemblyPath));
        var input = parameters[0].ParameterType;
        var returned = method.ReturnType;
        var target = spec.IsStatic ? null : RuntimeHelpers.GetUninitializedObject(method.DeclaringType!);
        Type invokerType;
        Type output;
        if (returned.IsGenericType && returned.GetGenericTypeDefinition() == typeof(Task<>))
        {
            output = returned.GetGenericArguments()[0];
            invokerType = (takesToken ? typeof(CancellableTaskInvoker<,>) : typeof(TaskInvoker<,>)).MakeGenericType(input, output);
        }
        else if (returned.IsGenericType && returned.GetGenericTypeDefinition() == typeof(ValueTask<>))
        {
            output = returned.GetGenericArguments()[0];
            invokerType = (takesToken ? typeof(CancellableValueTaskInvoker<,>) : typeof(ValueTaskInvoker<,>)).MakeGenericType(input, output);
        }
        else
        {
            output = returned;
            invokerType = (takesToken ? typeof(CancellableSyncInvoker<,>) : typeof(SyncInvoker<,>)).MakeGenericType(input, output);
        }
        var function = takesToken
            ? method.CreateDelegate(typeof(Func<,,>).MakeGenericType(input, typeof(CancellationToken), returned), target)
            : method.CreateDelegate(typeof(Func<,>).MakeGenericType(input, returned), target);
        var invoker = (IBodyInvoker)Activator.CreateInstance(invokerType, function, codec)!;
        WarmUp(codec, input, output);
        _body = method;
        return invoker;
    }

    /// <summary>The body's method once loaded, for <see cref="PrepareBody"/>.</summary>
    private static MethodInfo? _body;

    /// <summary>
    /// Compiles the body's method (and, for an async body, its state machine's step) and the invoker's method that
    /// calls it, without running either: for a child that waits idle for its first item (a pool's warm spare), so that
    /// item does not wait for the JIT. What cannot be compiled ahead (a generic method, a type that fails to load) is
    /// left to the first item, which then meets and reports whatever fails. Static constructors do not run here.
    /// </summary>
    public static void PrepareBody(IBodyInvoker invoker)
    {
        if (_body is not { } body)
            return;
        Prepare(body);
        Prepare(StateMachineStep(body));
        var invoke = invoker.GetType().GetMethod(nameof(IBodyInvoker.InvokeAsync));
        Prepare(invoke);
        Prepare(invoke is null ? null : StateMachineStep(invoke));
    }

    /// <summary>The MoveNext of an async method's state machine, closed over its declaring type's arguments; null for other methods.</summary>
    private static MethodInfo? StateMachineStep(MethodInfo method)
    {
        if (method.GetCustomAttribute<AsyncStateMachineAttribute>()?.StateMachineType is not { } machine)
            return null;
        if (machine.IsGenericTypeDefinition && method.DeclaringType is { IsGenericType: true } declaring && machine.GetGenericArguments().Length == declaring.GenericTypeArguments.Length)
            machine = machine.MakeGenericType(declaring.GenericTypeArguments);
        return machine.GetMethod("MoveNext", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
    }

    private static void Prepare(MethodInfo? method)
    {
        if (method is null || method.ContainsGenericParameters)
            return;
        try
        {
            if (method.DeclaringType is { IsGenericType: true } declaring)
                RuntimeHelpers.PrepareMethod(method.MethodHandle, [.. declaring.GenericTypeArguments.Select(argument => argument.TypeHandle)]);
            else
                RuntimeHelpers.PrepareMethod(method.MethodHandle);
        }
        catch (Exception exception) when (exception is ArgumentException or InvalidOperationException or TypeLoadException or BadImageFormatException or TypeInitializationException or MissingMemberException or NotSupportedException or FileNotFoundException or FileLoadException)
        {
            // A preparation only: the first item compiles what it needs and reports what fails.
        }
    }

    /// <summary>Released once the first reply has gone out: then the warm-up thread warms the error path.</summary>
    private static readonly ManualResetEventSlim FirstReplySent = new();

    /// <summary>Whether the warm-up thread is left to start once the first reply is out (nothing to warm before it).</summary>
    private static bool _warmUpDeferred;

    /// <summary>The first reply is out: the error path may be warmed now (see <see cref="WarmUp"/>).</summary>
    public static void FirstReplyWasSent()
    {
        FirstReplySent.Set();
        if (_warmUpDeferred)
            StartWarmUp(() => { });
    }

    /// <summary>
    /// Warms, on a thread of its own (not the pool's: the loops that read the first request and answer it must not
    /// queue behind it), what a fresh process would otherwise set up on the way of its items. The JSON codec's
    /// metadata for the body's types at once, while Ready travels to the parent and the first request comes back
    /// (tens of milliseconds that the first item would pay; only for <see cref="JsonCodec"/>, which is safe to use from
    /// several threads, and only for types it does not write directly). The error path (the first failure's report: a
    /// stack trace with file and line, slow to build the first time) once the first reply has gone out, so that it does not
    /// compete with the first item for the CPU, yet is warm before a later failure is reported (fail-fast latency).
    /// With nothing to warm before the first item, the thread itself starts after it (starting a thread costs a fresh
    /// process time the first item would wait for).
    /// </summary>
    private static void WarmUp(ICodec codec, Type input, Type output)
    {
        if (codec is not JsonCodec || (JsonPrimitives.Contains(input) && JsonPrimitives.Contains(output)))
        {
            _warmUpDeferred = true;
            return;
        }
        StartWarmUp(() =>
        {
            try
            {
                codec.EnsureSupported(input);
                codec.EnsureSupported(output);
            }
            catch (NotSupportedException)
            {
                // The first item will meet the same refusal and report it.
            }
        });
    }

    private static void StartWarmUp(Action beforeFirstReply)
    {
        var thread = new Thread(() =>
        {
            beforeFirstReply();
            FirstReplySent.Wait();
            try
            {
                throw new InvalidOperationException("warm-up of the error path");
            }
            catch (InvalidOperationException exception)
            {
                _ = HandshakeJson.EncodeRemoteError(RemoteError.From(exception));
            }
        })
        {
            IsBackground = true,
            Name = "Nursery warm-up",
        };
        thread.Start();
    }

    public static async Task RunInitializerAsync(MethodSpec spec, string? stateJson)
    {
        var method = Resolve(spec);
        var parameters = method.GetParameters();
        var target = spec.IsStatic ? null : RuntimeHelpers.GetUninitializedObject(method.DeclaringType!);
        object?[] arguments = parameters.Length switch
        {
            0 => [],
            1 => [JsonSerializer.Deserialize(stateJson ?? "null", parameters[0].ParameterType)],
            _ => throw new InvalidOperationException($"The initializer {spec.TypeName}.{spec.MethodName} must take no argument or one (the state); it takes {parameters.Length}."),
        };
        object? returned;
        try
        {
            returned = method.Invoke(target, arguments);
        }
        catch (TargetInvocationException exception) when (exception.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(exception.InnerException).Throw();
            throw;
        }
        if (returned is Task task)
            await task.ConfigureAwait(false);
    }

    private static MethodInfo Resolve(MethodSpec spec)
    {
        Assembly assembly;
        try
        {
            assembly = ContextFor(spec.AssemblyPath).LoadFromAssemblyPath(spec.AssemblyPath);
        }
        // Asked only when the load fails: a check before it cost a fresh child a millisecond or two.
        catch (FileNotFoundException) when (!File.Exists(spec.AssemblyPath))
        {
            throw new FileNotFoundException($"The assembly '{spec.AssemblyPath}' that holds {spec.TypeName}.{spec.MethodName} does not exist on this machine.", spec.AssemblyPath);
        }
        MethodBase? found = null;
        try
        {
            found = assembly.ManifestModule.ResolveMethod(spec.MetadataToken);
        }
        catch (ArgumentException) { }
        // The same build as the parent's: the token names the method. Otherwise (or with no build given) the names must
        // agree, or the method is looked up by name.
        if (found is MethodInfo method
            && (spec.ModuleVersionId.Length > 0 && IsModuleVersionId(assembly.ManifestModule.ModuleVersionId, spec.ModuleVersionId)
                || method.Name == spec.MethodName && method.DeclaringType?.FullName == spec.TypeName))
            return method;

        // The assembly was rebuilt since the parent loaded it: fall back to the name.
        return FindByName(assembly, spec);
    }

    /// <summary>
    /// The method named by <paramref name="spec"/>, looked up by name. A method of its own: its lambda and LINQ would
    /// otherwise load System.Linq into every fresh child as <see cref="Resolve"/> starts, even when the token serves.
    /// </summary>
    private static MethodInfo FindByName(Assembly assembly, MethodSpec spec)
    {
        var type = assembly.GetType(spec.TypeName, throwOnError: false)
            ?? throw new TypeLoadException($"The type '{spec.TypeName}' is not in '{spec.AssemblyPath}'.");
        var candidates = type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(candidate => candidate.Name == spec.MethodName)
            .ToArray();
        return candidates.Length switch
        {
            1 => candidates[0],
            0 => throw new MissingMethodException($"The method '{spec.MethodName}' is not in type '{spec.TypeName}' of '{spec.AssemblyPath}'."),
            _ => throw new AmbiguousMatchException($"'{spec.TypeName}' has {candidates.Length} methods named '{spec.MethodName}' and the parent's metadata token does not match this build of '{spec.AssemblyPath}'; rebuild so parent and child use the same assembly."),
        };
    }

    private static BodyLoadContext ContextFor(string assemblyPath)
    {
        var path = Path.GetFullPath(assemblyPath);
        lock (ContextsGate)
        {
            if (!Contexts.TryGetValue(path, out var context))
                Contexts[path] = context = new BodyLoadContext(path);
            return context;
        }
    }

    /// <summary>
    /// Whether <paramref name="id"/> is the GUID written as 32 hex digits in <paramref name="digits"/> (its "N" form, as
    /// the parent sends it). Compared digit by digit: formatting the GUID instead JIT-compiles the runtime's vectorised
    /// formatter in every fresh child, milliseconds before its Ready.
    /// </summary>
    internal static bool IsModuleVersionId(Guid id, string digits)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (digits.Length != 32 || !id.TryWriteBytes(bytes, bigEndian: true, out _))
            return false;
        for (var i = 0; i < 16; i++)
        {
            if (HexValue(digits[2 * i]) != bytes[i] >> 4 || HexValue(digits[(2 * i) + 1]) != (bytes[i] & 0xF))
                return false;
        }
        return true;
    }

    private static int HexValue(char digit) => digit switch
    {
        >= '0' and <= '9' => digit - '0',
        >= 'a' and <= 'f' => digit - 'a' + 10,
        >= 'A' and <= 'F' => digit - 'A' + 10,
        _ => -1,
    };

    private static ICodec CreateCodec(string codecTypeName, BodyLoadContext context)
    {
        // The default codec without resolving its name: parsing an assembly-qualified name and binding it costs a
        // fresh process milliseconds on its way to Ready.
        if (codecTypeName == typeof(JsonCodec).AssemblyQualifiedName)
            return new JsonCodec();
        var type =
            Type.GetType(codecTypeName, name => TryLoad(context, name), typeResolver: null, throwOnError: false)
            ?? throw new TypeLoadException($"The codec type '{codecTypeName}' cannot be found in the child.");
        return (ICodec)(Activator.CreateInstance(type) ?? throw new InvalidOperationException($"The codec type '{codecTypeName}' could not be created."));
    }

    private static Assembly? TryLoad(BodyLoadContext context, AssemblyName name)
    {
        try
        {
            return context.LoadFromAssemblyName(name);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }
}
