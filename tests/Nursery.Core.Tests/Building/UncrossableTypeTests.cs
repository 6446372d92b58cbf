using System.Text.Json;
using System.Text.Json.Serialization;
using Nursery.TestBodies;

namespace Nursery.Tests.Building;

/// <summary>
/// Types whose values cannot be re-created in a child (handles of this process, object, interfaces and abstract
/// classes without a known concrete type) are refused when the body is built, with what to send instead; plain data
/// types are accepted. The rule: a value crosses when the codec reads back the value it wrote.
/// </summary>
public sealed class UncrossableTypeTests
{
    public static TheoryData<Type, string> Refused =>
        new()
        {
            { typeof(Stream), "pass a path (a string) instead" },
            { typeof(MemoryStream), "pass a path (a string) instead" },
            { typeof(FileStream), "pass a path (a string) instead" },
            { typeof(StreamReader), "pass a path (a string) instead" },
            { typeof(FileInfo), "pass its path (a string, FileSystemInfo.FullName) instead" },
            { typeof(DirectoryInfo), "pass its path (a string, FileSystemInfo.FullName) instead" },
            { typeof(Func<int, int>), "code bound to this process" },
            { typeof(Action), "code bound to this process" },
            { typeof(Task), "await it and send its result" },
            { typeof(Task<int>), "await it and send its result" },
            { typeof(ValueTask<int>), "await it and send its result" },
            { typeof(IntPtr), "an address in this process's memory" },
            { typeof(UIntPtr), "an address in this process's memory" },
            { typeof(int*), "an address in this process's memory" },
            { typeof(Span<byte>), "a stack-only view of memory" },
            { typeof(ReadOnlySpan<char>), "a stack-only view of memory" },
            { typeof(CancellationToken), "signals within this process only" },
            { typeof(CancellationTokenSource), "signals within this process only" },
            { typeof(ManualResetEvent), "operating-system state" },
            { typeof(Thread), "operating-system state" },
            { typeof(System.Diagnostics.Process), "operating-system state" },
            { typeof(Type), "loaded code" },
            { typeof(object), "use a concrete record or type" },
            { typeof(IDisposable), "is an interface: the child cannot tell which concrete type to create" },
            { typeof(IComparable<int>), "is an interface: the child cannot tell which concrete type to create" },
            { typeof(AbstractShape), "is an abstract class: the child cannot tell which concrete type to create" },
            { typeof(StreamHolder), "StreamHolder.Data is a System.IO.Stream" },
            { typeof(WithAnObject), "WithAnObject.Value is a System.Object" },
            { typeof(WithAFile), "WithAFile.File is a System.IO.FileInfo" },
            { typeof(List<object>), "an element of System.Collections.Generic.List`1[System.Object] is a System.Object" },
            { typeof(Dictionary<string, object>), "a value of" },
            { typeof(IReadOnlyList<Stream>), "an element of" },
            { typeof(WithAnInterface), "WithAnInterface.Shape (Nursery.Tests.Building.IShapeWithoutImplementations) is an interface" },
        };

    public static TheoryData<Type> Accepted =>
        [
            typeof(int),
            typeof(string),
            typeof(double),
            typeof(decimal),
            typeof(int?),
            typeof(DateTime),
            typeof(DateTimeOffset),
            typeof(TimeSpan),
            typeof(Guid),
            typeof(DayOfWeek),
            typeof(byte[]),
            typeof(int[]),
            typeof(List<string>),
            typeof(IReadOnlyList<int>),
            typeof(IEnumerable<string>),
            typeof(IReadOnlyDictionary<string, int>),
            typeof(Dictionary<string, List<double>>),
            typeof(HashSet<long>),
            typeof((int, string)),
            typeof(JsonElement),
            typeof(Order),
            typeof(PolymorphicShape),
            typeof(Recursive),
        ];

    [Theory]
    [MemberData(nameof(Refused))]
    public void A_type_that_cannot_cross_is_refused_naming_it_and_saying_what_to_send(Type type, string advice)
    {
        var error = Assert.Throws<ArgumentException>(() => Body.EnsureOnWire(new JsonCodec(), type, "input"));

        Assert.Contains($"The body's input type {type}", error.Message, StringComparison.Ordinal);
        Assert.Contains(advice, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Accepted))]
    public void A_plain_data_type_is_accepted(Type type) => Body.EnsureOnWire(new JsonCodec(), type, "input");

    [Fact]
    public void A_Stream_parameter_is_refused_when_the_body_is_built()
    {
        var error = Assert.Throws<ArgumentException>(() => Body.From<Stream, long>(stream => stream.Length));

        Assert.Contains("System.IO.Stream is an open stream in this process; pass a path (a string) instead and open the file in the body", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_FileInfo_parameter_is_refused_when_the_body_is_built()
    {
        var error = Assert.Throws<ArgumentException>(() => Body.From<FileInfo, long>(file => file.Length));

        Assert.Contains("FileSystemInfo.FullName", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_object_parameter_is_refused_when_the_body_is_built_instead_of_arriving_as_a_JsonElement()
    {
        var error = Assert.Throws<ArgumentException>(() => Body.From<object, string>(value => value.GetType().Name));

        Assert.Contains("JsonElement", error.Message, StringComparison.Ordinal);
        Assert.Contains("use a concrete record or type", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_asynchronous_lambda_given_to_From_is_refused_pointing_at_FromAsync()
    {
        var error = Assert.Throws<ArgumentException>(() => Body.From<int, Task<int>>(x => Task.FromResult(x)));

        Assert.Contains("The body's output type System.Threading.Tasks.Task`1[System.Int32]", error.Message, StringComparison.Ordinal);
        Assert.Contains("Body.FromAsync", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_type_refused_for_JSON_is_refused_for_MessagePack_too()
    {
        var error = Assert.Throws<ArgumentException>(() => Body.From<Stream, long>(stream => stream.Length, new MessagePackCodec()));

        Assert.Contains("pass a path (a string) instead", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_persistent_command_with_an_object_item_is_refused_when_built()
    {
        var error = Assert.Throws<ArgumentException>(() => Command.Persistent<object, int>("/bin/cat"));

        Assert.Contains("use a concrete record or type", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Initializer_state_that_cannot_cross_is_refused_when_built()
    {
        var error = Assert.Throws<ArgumentException>(() => Body.From<int, int>(Bodies.Double).WithInitializer<Stream>(_ => { }, Stream.Null));

        Assert.Contains("pass a path (a string) instead", error.Message, StringComparison.Ordinal);
    }
}

public abstract record AbstractShape(double Size);

[JsonDerivedType(typeof(Circle), "circle")]
public abstract record PolymorphicShape;

public sealed record Circle(double Radius) : PolymorphicShape;

public interface IShapeWithoutImplementations
{
    double Area { get; }
}

public sealed record StreamHolder(string Name, Stream Data);

public sealed record WithAnObject(string Name, object Value);

public sealed record WithAFile(FileInfo File);

public sealed record WithAnInterface(IShapeWithoutImplementations Shape);

public sealed record Recursive(int Value, List<Recursive> Children);
