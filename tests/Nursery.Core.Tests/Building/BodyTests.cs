using System.Reflection;
using System.Reflection.Emit;
using Nursery.TestBodies;

namespace Nursery.Tests.Building;

/// <summary>Bodies that cannot run in a child are refused when they are built, with a message that says what to do.</summary>
public sealed class BodyTests
{
    private readonly int _offset = 5;

    [Fact]
    public void A_lambda_that_captures_a_local_is_refused_naming_the_variable()
    {
        var factor = 3;

        var error = Assert.Throws<ArgumentException>(() => Body.From<int, int>(x => x * factor));

        Assert.Contains("captures 'factor'", error.Message, StringComparison.Ordinal);
        Assert.Contains("WithInitializer", error.Message, StringComparison.Ordinal);
        Assert.Contains("In a notebook, a function written in a cell runs in a child once its source is compiled with Nursery.Interactive (Compile.CSharp(source) or Compile.FSharp(source)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_lambda_that_uses_this_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => Body.From<int, int>(x => x + _offset));

        Assert.Contains("_offset", error.Message, StringComparison.Ordinal);
        Assert.Contains("cannot see this process's variables", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_method_from_a_dynamic_assembly_is_refused_pointing_at_the_two_ways_that_work()
    {
        var function = DynamicDouble();

        var error = Assert.Throws<ArgumentException>(() => Body.From(function));

        Assert.Contains("dynamic assembly", error.Message, StringComparison.Ordinal);
        Assert.Contains("#r", error.Message, StringComparison.Ordinal);
        Assert.Contains("command stage", error.Message, StringComparison.Ordinal);
        Assert.Contains("compile the function's source for real with Nursery.Interactive (Compile.CSharp(source) or Compile.FSharp(source)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_type_that_cannot_cross_processes_is_refused_when_the_body_is_built()
    {
        var error = Assert.Throws<ArgumentException>(() => Body.From<int, Func<int>>(Handles.MakeFunction));

        Assert.Contains("output type", error.Message, StringComparison.Ordinal);
        Assert.Contains("plain data type", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Initializer_state_that_cannot_be_serialized_is_refused()
    {
        var body = Body.From<int, int>(Bodies.Multiply);

        var error = Assert.Throws<ArgumentException>(() => body.WithInitializer<Action>(Handles.TakeAction, () => { }));

        Assert.Contains("state", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_initializer_that_returns_a_value_is_described_with_its_state()
    {
        var body = Body.From<int, int>(Bodies.Multiply);

        var initialized = body.WithInitializer<int, int>(Bodies.Double, 7);

        Assert.Equal(nameof(Bodies.Double), initialized.Initializer?.MethodName);
        Assert.Equal("7", initialized.StateJson);
        Assert.Equal(body.Name, initialized.Name);
    }

    [Fact]
    public void An_initializer_function_that_captures_a_local_is_refused_naming_the_variable()
    {
        var body = Body.From<int, int>(Bodies.Multiply);
        var offset = 3;

        var error = Assert.Throws<ArgumentException>(() => body.WithInitializer<int, int>(x => x + offset, 7));

        Assert.StartsWith("The initializer", error.Message, StringComparison.Ordinal);
        Assert.Contains("captures", error.Message, StringComparison.Ordinal);
        Assert.Contains("'offset'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_static_method_and_a_non_capturing_lambda_are_accepted()
    {
        var fromMethod = Body.From<int, int>(Bodies.Double);
        var fromLambda = Body.From<int, int>(x => x + 1);

        Assert.Equal("Nursery.TestBodies.Bodies.Double", fromMethod.Name);
        Assert.True(fromMethod.Method.IsStatic);
        Assert.False(fromLambda.Method.IsStatic);
    }

    [Theory]
    [InlineData(-1L)]
    [InlineData(1024L)]
    public void A_negative_or_tiny_memory_limit_is_refused_naming_the_option(long limit)
    {
        var error = Assert.Throws<ArgumentException>(() => new WorkerOptions { MemoryLimit = limit }.Validate());

        Assert.Equal("MemoryLimit", error.ParamName);
    }

    [Fact]
    public void A_zero_item_timeout_is_refused_naming_the_option()
    {
        var error = Assert.Throws<ArgumentException>(() => new WorkerOptions { ItemTimeout = TimeSpan.Zero }.Validate());

        Assert.Equal("ItemTimeout", error.ParamName);
        Assert.Contains("InfiniteTimeSpan", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_heartbeat_timeout_shorter_than_two_intervals_is_refused()
    {
        var options = new WorkerOptions { HeartbeatInterval = TimeSpan.FromSeconds(1), HeartbeatTimeout = TimeSpan.FromSeconds(1) };

        var error = Assert.Throws<ArgumentException>(() => options.Validate());

        Assert.Equal("HeartbeatTimeout", error.ParamName);
    }

    private static Func<int, int> DynamicDouble()
    {
        var assembly = AssemblyBuilder.DefineDynamicAssembly(new AssemblyName("NotebookCell"), AssemblyBuilderAccess.Run);
        var module = assembly.DefineDynamicModule("NotebookCell");
        var type = module.DefineType("Cell1", TypeAttributes.Public | TypeAttributes.Abstract | TypeAttributes.Sealed);
        var method = type.DefineMethod("Double", MethodAttributes.Public | MethodAttributes.Static, typeof(int), [typeof(int)]);
        var il = method.GetILGenerator();
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Ldc_I4_2);
        il.Emit(OpCodes.Mul);
        il.Emit(OpCodes.Ret);
        var built = type.CreateType();
        return built.GetMethod("Double")!.CreateDelegate<Func<int, int>>();
    }

    private static class Handles
    {
        public static Func<int> MakeFunction(int x) => () => x;

        public static void TakeAction(Action action) => action();
    }
}
