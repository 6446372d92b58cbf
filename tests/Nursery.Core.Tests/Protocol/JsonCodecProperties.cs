using System.Buffers;
using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Nursery.Protocol.Tests;

/// <summary>
/// What <see cref="JsonCodec"/>'s direct path for primitives (int, long, double, bool, string: no serializer) guarantees:
/// the bytes are the serializer's, byte for byte, so a parent and a child of different builds still understand each
/// other; reading gives what the serializer reads; and input the serializer refuses is refused the same way.
/// </summary>
public sealed class JsonCodecProperties
{
    private static readonly JsonCodec Codec = new();

    /// <summary>The codec's serializer path as it was before the direct path: its options, a writer that skips validation.</summary>
    private static readonly JsonSerializerOptions SerializerOptions = new(JsonSerializerDefaults.General)
    {
        IncludeFields = true,
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    [Property(MaxTest = 300, QuietOnSuccess = true)]
    public Property An_int_is_written_as_the_serializer_writes_it_and_read_back() => Prop.ForAll(Arb.From(ArbMap.Default.GeneratorFor<int>()), value => WrittenAndReadAsTheSerializerDoes(value));

    /// <summary>Text made of what numbers are made of (and what they must not contain), for the integer read path.</summary>
    private static readonly Gen<string> NumberLikeText =
        Gen.Elements("0", "1", "9", "5", "-", "+", ".", "e", " ", "\t", "\n", "\r", "\"", "x", "00", "123456789", "9223372036854775807", "2147483648")
            .ArrayOf()
            .Select(parts => string.Concat(parts.Take(6)));

    [Property(MaxTest = 1000, QuietOnSuccess = true)]
    public Property An_int_or_a_long_from_number_like_text_is_read_or_refused_as_the_serializer_does() =>
        Prop.ForAll(Arb.From(NumberLikeText), json =>
        {
            ReadOrRefusedAsTheSerializerDoes<int>(json);
            ReadOrRefusedAsTheSerializerDoes<long>(json);
        });

    [Property(MaxTest = 300, QuietOnSuccess = true)]
    public Property A_long_is_written_as_the_serializer_writes_it_and_read_back() => Prop.ForAll(Arb.From(ArbMap.Default.GeneratorFor<long>()), value => WrittenAndReadAsTheSerializerDoes(value));

    [Theory]
    [InlineData(long.MinValue)]
    [InlineData(long.MaxValue)]
    [InlineData(int.MinValue)]
    [InlineData(int.MaxValue)]
    [InlineData(0L)]
    [InlineData(-1L)]
    public void The_extreme_integers_are_written_as_the_serializer_writes_them(long value)
    {
        WrittenAndReadAsTheSerializerDoes(value);
        if (value is >= int.MinValue and <= int.MaxValue)
            WrittenAndReadAsTheSerializerDoes((int)value);
    }

    [Property(MaxTest = 300, QuietOnSuccess = true)]
    public Property A_finite_double_is_written_as_the_serializer_writes_it_and_read_back() =>
        Prop.ForAll(Arb.From(ArbMap.Default.GeneratorFor<double>().Where(double.IsFinite)), value => WrittenAndReadAsTheSerializerDoes(value));

    [Property(MaxTest = 300, QuietOnSuccess = true)]
    public Property A_string_is_written_as_the_serializer_writes_it_and_read_back() =>
        Prop.ForAll(Arb.From(HandshakeGen.Text), value => WrittenAndReadAsTheSerializerDoes(value));

    [Theory]
    [InlineData("héllo ✓ 日本語")]
    [InlineData("plain ASCII")]
    public void Text_goes_on_the_wire_as_UTF8_not_as_escapes(string text)
    {
        var direct = new ArrayBufferWriter<byte>();
        Codec.Serialize(text, direct);
        var record = new ArrayBufferWriter<byte>();
        Codec.Serialize(new KeyValuePair<string, int>(text, 1), record);

        Assert.Equal("\"" + text + "\"", Encoding.UTF8.GetString(direct.WrittenSpan));
        Assert.Contains(text, Encoding.UTF8.GetString(record.WrittenSpan), StringComparison.Ordinal);
        Assert.Equal(text, Codec.Deserialize<string>(new ReadOnlySequence<byte>(direct.WrittenMemory)));
    }

    [Fact]
    public void Text_outside_the_basic_plane_is_escaped_by_the_encoder_and_still_read_back()
    {
        const string text = "smile 🙂";
        var written = new ArrayBufferWriter<byte>();
        Codec.Serialize(text, written);

        Assert.Equal(text, Codec.Deserialize<string>(new ReadOnlySequence<byte>(written.WrittenMemory)));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_bool_is_written_as_the_serializer_writes_it_and_read_back(bool value) => WrittenAndReadAsTheSerializerDoes(value);

    [Fact]
    public void A_null_string_is_written_as_the_serializer_writes_it_and_read_back() => WrittenAndReadAsTheSerializerDoes<string?>(null);

    [Theory]
    [InlineData(" 42 ")]
    [InlineData("-0")]
    [InlineData("1.0")]
    [InlineData("1e2")]
    [InlineData("01")]
    [InlineData("2147483648")]
    [InlineData("\"42\"")]
    [InlineData("null")]
    [InlineData("42 43")]
    [InlineData("42 // no")]
    [InlineData("")]
    public void An_int_is_read_or_refused_as_the_serializer_does(string json) => ReadOrRefusedAsTheSerializerDoes<int>(json);

    [Theory]
    [InlineData("9223372036854775807")]
    [InlineData("9223372036854775808")]
    [InlineData("-1.5")]
    public void A_long_is_read_or_refused_as_the_serializer_does(string json) => ReadOrRefusedAsTheSerializerDoes<long>(json);

    [Theory]
    [InlineData("1.5e300")]
    [InlineData("1e400")]
    [InlineData("\"NaN\"")]
    [InlineData("-0.0")]
    public void A_double_is_read_or_refused_as_the_serializer_does(string json) => ReadOrRefusedAsTheSerializerDoes<double>(json);

    [Theory]
    [InlineData("true")]
    [InlineData(" false\n")]
    [InlineData("1")]
    [InlineData("\"true\"")]
    public void A_bool_is_read_or_refused_as_the_serializer_does(string json) => ReadOrRefusedAsTheSerializerDoes<bool>(json);

    [Theory]
    [InlineData("\"a\\u00e9\\n\"")]
    [InlineData("null")]
    [InlineData("1")]
    [InlineData("\"open")]
    [InlineData("\"a\" \"b\"")]
    public void A_string_is_read_or_refused_as_the_serializer_does(string json) => ReadOrRefusedAsTheSerializerDoes<string>(json);

    [Fact]
    public void Every_ASCII_character_is_written_as_the_serializer_writes_it_and_read_back()
    {
        for (var code = 0; code < 0x80; code++)
        {
            var character = (char)code;
            WrittenAndReadAsTheSerializerDoes(new string(character, 3));
            WrittenAndReadAsTheSerializerDoes("plain " + character + " text");
        }
    }

    [Property(MaxTest = 500, QuietOnSuccess = true)]
    public Property A_string_split_across_segments_is_read_or_refused_as_the_serializer_does() =>
        Prop.ForAll(Arb.From(StringLikeBytes), Arb.From(Gen.Choose(0, 100)), (bytes, cut) =>
        {
            byte[] json = [0x22, .. bytes, 0x22];
            var at = cut % (json.Length + 1);
            var first = new Segment(json.AsMemory(0, at));
            var last = first.Append(json.AsMemory(at));
            var expected = Record.Exception(() => JsonSerializer.Deserialize<string>(json, SerializerOptions));

            string? read = null;
            var refused = Record.Exception(() => read = Codec.Deserialize<string>(new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length)));

            Assert.Equal(expected?.GetType(), refused?.GetType());
            Assert.Equal(expected is null ? JsonSerializer.Deserialize<string>(json, SerializerOptions) : null, read);
        });

    [Fact]
    public void A_value_split_across_segments_is_read()
    {
        var first = new Segment(Encoding.UTF8.GetBytes("12"));
        var last = first.Append(Encoding.UTF8.GetBytes("34"));

        var value = Codec.Deserialize<int>(new ReadOnlySequence<byte>(first, 0, last, 2));

        Assert.Equal(1234, value);
    }

    private static void WrittenAndReadAsTheSerializerDoes<T>(T value)
    {
        var written = new ArrayBufferWriter<byte>();
        Codec.Serialize(value, written);
        var expected = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(expected, new JsonWriterOptions { SkipValidation = true, Encoder = SerializerOptions.Encoder }))
            JsonSerializer.Serialize(writer, value, SerializerOptions);

        var read = Codec.Deserialize<T>(new ReadOnlySequence<byte>(written.WrittenMemory));

        Assert.Equal(Encoding.UTF8.GetString(expected.WrittenSpan), Encoding.UTF8.GetString(written.WrittenSpan));
        Assert.Equal(JsonSerializer.Deserialize<T>(expected.WrittenSpan, SerializerOptions), read);
    }

    /// <summary>Bytes made of what JSON strings are made of, including what must be escaped and invalid UTF-8.</summary>
    private static readonly Gen<byte[]> StringLikeBytes =
        Gen.Elements<byte[]>([0x22], [0x22], [0x5C], [0x01], [0x1F], [0x20], [0x09], [(byte)'a'], [(byte)'u', (byte)'0', (byte)'0', (byte)'4', (byte)'1'], [0xC3, 0xA9], [0xE2, 0x9C, 0x93], [0xF0, 0x9F, 0x99, 0x82], [0xFF], [0xC3], [0xED, 0xA0, 0x80], [(byte)'n', (byte)'u', (byte)'l', (byte)'l'])
            .ArrayOf()
            .Select(parts => parts.Take(8).SelectMany(part => part).ToArray());

    [Property(MaxTest = 1000, QuietOnSuccess = true)]
    public Property A_string_from_string_like_bytes_is_read_or_refused_as_the_serializer_does() =>
        Prop.ForAll(Arb.From(StringLikeBytes), bytes =>
        {
            ReadOrRefusedAsTheSerializerDoes<string>(bytes);
            // The plain form most often: the bytes between quotes.
            ReadOrRefusedAsTheSerializerDoes<string>([0x22, .. bytes, 0x22]);
        });

    private static void ReadOrRefusedAsTheSerializerDoes<T>(string json) => ReadOrRefusedAsTheSerializerDoes<T>(Encoding.UTF8.GetBytes(json));

    private static void ReadOrRefusedAsTheSerializerDoes<T>(byte[] bytes)
    {
        var expected = Record.Exception(() => JsonSerializer.Deserialize<T>(bytes, SerializerOptions));
        var expectedValue = expected is null ? JsonSerializer.Deserialize<T>(bytes, SerializerOptions) : default;

        T? read = default;
        var refused = Record.Exception(() => read = Codec.Deserialize<T>(new ReadOnlySequence<byte>(bytes)));

        Assert.Equal(expected?.GetType(), refused?.GetType());
        Assert.Equal(expectedValue, read);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
