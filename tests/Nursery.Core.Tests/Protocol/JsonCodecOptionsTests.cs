using System.Text.Json;
using System.Text.Json.Serialization;
using Nursery.Tests.Support;

namespace Nursery.Tests.Protocol;

public sealed record Reading(string SensorName, double Celsius);

public sealed record Converted(string SensorName, double Fahrenheit);

public sealed record NotInTheContext(string Text);

/// <summary>Reading and Converted, with names in snake case: a child that read them with the default options would see no names.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(Reading))]
[JsonSerializable(typeof(Converted))]
public sealed partial class ReadingsJson : JsonSerializerContext;

/// <summary>A codec over the source-generated context: the child creates it with this constructor.</summary>
public sealed class ReadingsCodec() : JsonCodec(ReadingsJson.Default);

/// <summary>A codec over options made by hand: numbers as strings, which the default options would not read.</summary>
public sealed class QuotedNumbersCodec() : JsonCodec(new JsonSerializerOptions { NumberHandling = JsonNumberHandling.WriteAsString | JsonNumberHandling.AllowReadingFromString });

public static class ReadingBodies
{
    public static Converted Convert(Reading reading) => new(reading.SensorName, reading.Celsius * 9 / 5 + 32);

    public static NotInTheContext Describe(Reading reading) => new(reading.SensorName);
}

/// <summary>
/// A JsonCodec with options of its own (a derived codec passes them, the child makes the same codec): a source-generated
/// context's type information, or options made by hand, carry items to a real child and back; a type the context does
/// not name is refused when the body is built.
/// </summary>
public sealed class JsonCodecOptionsTests
{
    private static readonly TimeSpan Bound = Children.Bound;

    [Fact]
    public async Task A_codec_over_a_source_generated_context_carries_items_to_the_child_and_back()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<Reading, Converted>(ReadingBodies.Convert, new ReadingsCodec()));

        var converted = EitherAssert.Right(await worker.InvokeAsync(new Reading("roof", 100), "roof").WaitAsync(Bound));

        Assert.Equal(new Converted("roof", 212), converted);
    }

    [Fact]
    public async Task A_codec_over_options_made_by_hand_carries_items_to_the_child_and_back()
    {
        await using var children = new Children();
        var worker = await children.StartAsync(Body.From<Reading, Converted>(ReadingBodies.Convert, new QuotedNumbersCodec()));

        var converted = EitherAssert.Right(await worker.InvokeAsync(new Reading("cellar", 10), "cellar").WaitAsync(Bound));

        Assert.Equal(new Converted("cellar", 50), converted);
    }

    [Fact]
    public void The_codec_writes_with_the_context_it_was_given()
    {
        var codec = new ReadingsCodec();
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();

        codec.Serialize(new Reading("roof", 1.5), buffer);

        Assert.Equal("""{"sensor_name":"roof","celsius":1.5}""", System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
        Assert.Same(ReadingsJson.Default, codec.Options.TypeInfoResolver);
    }

    [Fact]
    public void A_type_the_context_does_not_name_is_refused_when_the_body_is_built()
    {
        var error = Assert.Throws<ArgumentException>(() => Body.From<Reading, NotInTheContext>(ReadingBodies.Describe, new ReadingsCodec()));

        Assert.Contains("output type Nursery.Tests.Protocol.NotInTheContext", error.Message);
        Assert.Contains("ReadingsCodec", error.Message);
        Assert.Contains("JsonTypeInfo metadata", error.Message);
    }
}
