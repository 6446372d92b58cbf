using System.Reflection;
using System.Reflection.Emit;
using LanguageExt;

namespace Nursery.Tests.Failures;

/// <summary>The seven cases of <see cref="ChildFailure"/>: exhaustive matching, readable reports, exceptions, and a closed family.</summary>
public sealed class ChildFailureTests
{
    private static readonly RemoteError Boom = new(
        "System.InvalidOperationException",
        "item 7 is bad",
        "   at Nursery.TestBodies.Bodies.Throw(Int32 x) in /src/Bodies.cs:line 42\r\n   at Nursery.ChildHost.BodyInvoker.InvokeAsync()\n",
        [new RemoteError("System.FormatException", "the digit is not one", "   at System.Number.ThrowFormatException()", [])]
    );

    /// <summary>One failure of each case, with every context field set.</summary>
    private static ChildFailure Sample(string kind)
    {
        ChildFailure failure = kind switch
        {
            nameof(ChildFailure.Faulted) => new ChildFailure.Faulted(Boom),
            nameof(ChildFailure.StartFailed) => new ChildFailure.StartFailed("the initializer threw", Boom),
            nameof(ChildFailure.Crashed) => new ChildFailure.Crashed(134, Option<int>.None, "a native crash"),
            nameof(ChildFailure.OutOfMemory) => new ChildFailure.OutOfMemory(256L << 20, 300L << 20),
            nameof(ChildFailure.TimedOut) => new ChildFailure.TimedOut(TimeoutKind.ItemDeadline, TimeSpan.FromSeconds(5)),
            nameof(ChildFailure.ProtocolViolation) => new ChildFailure.ProtocolViolation("the child wrote an unknown frame kind 72", "Hi!\n"u8.ToArray()),
            nameof(ChildFailure.Cancelled) => new ChildFailure.Cancelled("the run was aborted", new ChildFailure.Faulted(Boom) { Stage = "parse", Key = "3" }, ItemStarted: false),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a case of ChildFailure"),
        };
        return failure with
        {
            Stage = "resize",
            Key = "item-7",
            Attempt = 2,
            ProcessId = 4242,
            Elapsed = TimeSpan.FromMilliseconds(1500),
            StderrTail = ["loading model", "about to fail"],
        };
    }

    [Theory]
    [InlineData(nameof(ChildFailure.Faulted))]
    [InlineData(nameof(ChildFailure.StartFailed))]
    [InlineData(nameof(ChildFailure.Crashed))]
    [InlineData(nameof(ChildFailure.OutOfMemory))]
    [InlineData(nameof(ChildFailure.TimedOut))]
    [InlineData(nameof(ChildFailure.ProtocolViolation))]
    [InlineData(nameof(ChildFailure.Cancelled))]
    public void Match_calls_exactly_the_function_for_the_case_and_passes_it_the_failure(string kind)
    {
        var failure = Sample(kind);
        var called = new List<(string Function, ChildFailure Argument)>();

        var result = failure.Match(
            faulted: f => Called(called, nameof(ChildFailure.Faulted), f),
            startFailed: f => Called(called, nameof(ChildFailure.StartFailed), f),
            crashed: f => Called(called, nameof(ChildFailure.Crashed), f),
            outOfMemory: f => Called(called, nameof(ChildFailure.OutOfMemory), f),
            timedOut: f => Called(called, nameof(ChildFailure.TimedOut), f),
            protocolViolation: f => Called(called, nameof(ChildFailure.ProtocolViolation), f),
            cancelled: f => Called(called, nameof(ChildFailure.Cancelled), f)
        );

        var call = Assert.Single(called);
        Assert.Equal(kind, call.Function);
        Assert.Same(failure, call.Argument);
        Assert.Equal(kind, result);
    }

    [Fact]
    public void The_report_of_Faulted_shows_the_remote_type_message_stack_trace_inner_error_and_where_it_happened()
    {
        var failure = Sample(nameof(ChildFailure.Faulted));

        var report = failure.ToString();

        Assert.Contains("System.InvalidOperationException: item 7 is bad", report, StringComparison.Ordinal);
        Assert.Contains("at Nursery.TestBodies.Bodies.Throw(Int32 x) in /src/Bodies.cs:line 42\n", report, StringComparison.Ordinal);
        Assert.Contains("at Nursery.ChildHost.BodyInvoker.InvokeAsync()", report, StringComparison.Ordinal);
        Assert.Contains("System.FormatException: the digit is not one", report, StringComparison.Ordinal);
        Assert.Contains("at System.Number.ThrowFormatException()", report, StringComparison.Ordinal);
        Assert.Contains("stage resize, item item-7, attempt 2, pid 4242, after 1.5 s", report, StringComparison.Ordinal);
        Assert.Contains("| about to fail", report, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(nameof(ChildFailure.Faulted))]
    [InlineData(nameof(ChildFailure.StartFailed))]
    [InlineData(nameof(ChildFailure.Crashed))]
    [InlineData(nameof(ChildFailure.OutOfMemory))]
    [InlineData(nameof(ChildFailure.TimedOut))]
    [InlineData(nameof(ChildFailure.ProtocolViolation))]
    [InlineData(nameof(ChildFailure.Cancelled))]
    public void Every_report_starts_with_its_kind_and_summary_and_ends_with_what_to_do(string kind)
    {
        var failure = Sample(kind);

        var report = failure.ToString();

        Assert.Equal(kind, failure.Kind.ToString());
        Assert.StartsWith($"{kind}: {failure.Summary}", report, StringComparison.Ordinal);
        Assert.NotEmpty(failure.Advice);
        Assert.EndsWith($"what to do: {failure.Advice}", report, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(nameof(ChildFailure.Faulted))]
    [InlineData(nameof(ChildFailure.StartFailed))]
    [InlineData(nameof(ChildFailure.Crashed))]
    [InlineData(nameof(ChildFailure.OutOfMemory))]
    [InlineData(nameof(ChildFailure.TimedOut))]
    [InlineData(nameof(ChildFailure.ProtocolViolation))]
    [InlineData(nameof(ChildFailure.Cancelled))]
    public void ToException_carries_the_same_failure_with_its_report_as_the_message(string kind)
    {
        var failure = Sample(kind);

        var exception = failure.ToException();

        Assert.IsType<ChildProcessException>(exception);
        Assert.Same(failure, exception.Failure);
        Assert.Equal(failure.ToString(), exception.Message);
    }

    [Fact]
    public void A_crash_by_signal_9_is_reported_as_SIGKILL()
    {
        var failure = new ChildFailure.Crashed(137, 9, "");

        var report = failure.ToString();

        Assert.Contains("killed by signal 9 (SIGKILL)", report, StringComparison.Ordinal);
    }

    [Fact]
    public void A_protocol_violation_shows_the_bytes_seen_as_hex_and_as_printable_text()
    {
        var failure = new ChildFailure.ProtocolViolation("the child wrote an unknown frame kind 72", [0x48, 0x69, 0x00, 0xff, 0x7e]);

        var report = failure.ToString();

        Assert.Contains("48 69 00 ff 7e", report, StringComparison.Ordinal);
        Assert.Contains("\"Hi..~\"", report, StringComparison.Ordinal);
    }

    [Fact]
    public void A_with_expression_on_Faulted_gives_a_Faulted()
    {
        var failure = new ChildFailure.Faulted(Boom);

        var changed = failure with { Key = "x" };

        Assert.IsType<ChildFailure.Faulted>(changed);
        Assert.Equal("x", changed.Key);
        Assert.Same(Boom, changed.Error);
    }

    [Theory]
    [InlineData(nameof(ChildFailure.Faulted))]
    [InlineData(nameof(ChildFailure.StartFailed))]
    [InlineData(nameof(ChildFailure.Crashed))]
    [InlineData(nameof(ChildFailure.OutOfMemory))]
    [InlineData(nameof(ChildFailure.TimedOut))]
    [InlineData(nameof(ChildFailure.ProtocolViolation))]
    [InlineData(nameof(ChildFailure.Cancelled))]
    public void A_with_expression_through_the_base_type_keeps_the_case_and_its_fields(string kind)
    {
        var failure = Sample(kind);

        var changed = failure with { Key = "x", Attempt = 3 };

        Assert.Equal(failure.GetType(), changed.GetType());
        Assert.Equal("x", changed.Key);
        Assert.Equal(3, changed.Attempt);
        Assert.Equal(failure.Summary, changed.Summary);
    }

    [Fact]
    public void Nursery_Core_defines_exactly_the_seven_nested_sealed_cases()
    {
        string[] seven = ["Faulted", "StartFailed", "Crashed", "OutOfMemory", "TimedOut", "ProtocolViolation", "Cancelled"];

        var cases = typeof(ChildFailure).Assembly.GetTypes().Where(type => type.IsSubclassOf(typeof(ChildFailure))).ToList();

        Assert.Equal(seven.Order(), cases.Select(type => type.Name).Order());
        Assert.All(cases, type => Assert.Equal(typeof(ChildFailure), type.DeclaringType));
        Assert.All(cases, type => Assert.True(type.IsSealed, $"{type} is not sealed"));
        Assert.All(cases, type => Assert.Equal(typeof(ChildFailure), type.BaseType));
    }

    /// <summary>
    /// The constructor is <c>private protected</c>, but a record's copy constructor is <c>protected</c>, so another assembly can
    /// chain to it: in C#, <c>sealed record Impostor : ChildFailure { public Impostor() : base(new Crashed(1, None, "")) { } … }</c>
    /// compiles. This test builds such a type at run time and expects the runtime to refuse it.
    /// </summary>
    [Fact]
    public void No_other_assembly_can_add_an_eighth_case()
    {
        var outsider = Record.Exception(() => Activator.CreateInstance(ImpostorType(), new ChildFailure.Crashed(1, Option<int>.None, "")));

        Assert.IsType<TypeLoadException>(outsider);
    }

    private static string Called(List<(string, ChildFailure)> called, string function, ChildFailure argument)
    {
        called.Add((function, argument));
        return function;
    }

    /// <summary>A subclass of <see cref="ChildFailure"/> from a new assembly that overrides every abstract member it can see.</summary>
    private static Type ImpostorType()
    {
        var assembly = AssemblyBuilder.DefineDynamicAssembly(new AssemblyName("Impostors"), AssemblyBuilderAccess.RunAndCollect);
        var type = assembly.DefineDynamicModule("Impostors").DefineType("Impostor", TypeAttributes.Public | TypeAttributes.Sealed, typeof(ChildFailure));

        var copy = typeof(ChildFailure).GetConstructor(BindingFlags.Instance | BindingFlags.NonPublic, [typeof(ChildFailure)])!;
        var constructor = type.DefineConstructor(MethodAttributes.Public, CallingConventions.Standard, [typeof(ChildFailure)]);
        var il = constructor.GetILGenerator();
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Call, copy);
        il.Emit(OpCodes.Ret);

        var visible = typeof(ChildFailure)
            .GetMethods(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            .Where(method => method.IsAbstract && (method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly));
        foreach (var method in visible)
        {
            var attributes = (method.Attributes & MethodAttributes.MemberAccessMask) | MethodAttributes.Virtual | MethodAttributes.HideBySig;
            var body = type.DefineMethod(method.Name, attributes, CallingConventions.HasThis);
            if (method.IsGenericMethodDefinition)
            {
                var result = body.DefineGenericParameters("TResult")[0];
                body.SetReturnType(result);
                body.SetParameters([.. method.GetParameters().Select(parameter => typeof(Func<,>).MakeGenericType(parameter.ParameterType.GetGenericArguments()[0], result))]);
            }
            else
            {
                body.SetReturnType(method.ReturnType);
                body.SetParameters([.. method.GetParameters().Select(parameter => parameter.ParameterType)]);
            }
            var throwing = body.GetILGenerator();
            throwing.Emit(OpCodes.Newobj, typeof(NotSupportedException).GetConstructor(Type.EmptyTypes)!);
            throwing.Emit(OpCodes.Throw);
            type.DefineMethodOverride(body, method);
        }
        return type.CreateType();
    }
}
