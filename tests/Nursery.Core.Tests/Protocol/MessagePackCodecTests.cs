using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using MessagePack;
using Nursery.TestBodies;

namespace Nursery.Protocol.Tests;

/// <summary>
/// What <see cref="MessagePackCodec"/> guarantees in one process: values come back equal, read from one segment or
/// from many (as a pipe hands them over); bytes that are not one value of the type throw; and types it cannot encode
/// are refused when the body is built, with what to do instead.
/// </summary>
public sealed class MessagePackCodecTests
{
    private static readonly MessagePackCodec Codec = new();

    [Fact]
    public void Ints_come_back_equal_including_the_extremes()
    {
        int[] values = [0, 1, -1, 127, 128, -33, 255, 65_536, int.MinValue, int.MaxValue];

        var decoded = values.Select(value => RoundTrip(value)).ToArray();

        Assert.Equal(values, decoded);
    }

    [Fact]
    public void Strings_come_back_equal_including_empty_non_ascii_and_10_KiB()
    {
        string[] values = ["", "a", "ünïcödé ✓ 日本語 🎉", "\"quotes\" and \\ and \n and \0", new string('x', 10 * 1024), string.Concat(Enumerable.Repeat("é\"\n", 3500))];

        var decoded = values.Select(value => RoundTrip(value)).ToArray();

        Assert.Equal(values, decoded);
    }

    [Fact]
    public void A_10_KiB_ascii_string_costs_3_bytes_of_header_on_the_wire()
    {
        var text = new string('x', 10 * 1024);

        var bytes = Encode(text);

        Assert.Equal(text.Length + 3, bytes.Length);
    }

    [Fact]
    public void Records_with_nested_records_lists_dictionaries_and_nulls_come_back_equal()
    {
        var shipment = BinaryBodies.Ship(new Order("A7", 3, ["red", "big"]));

        var decoded = RoundTrip(shipment);

        Assert.Equal(shipment.OrderId, decoded.OrderId);
        Assert.Equal(shipment.Parcels, decoded.Parcels);
        Assert.Null(decoded.Parcels[0].Note);
        Assert.Equal("after red", decoded.Parcels[1].Note);
        Assert.Equal(shipment.Counts, decoded.Counts);
        Assert.Equal(7.5, decoded.Weight);
    }

    [Fact]
    public void Nested_lists_come_back_equal_including_empty_ones()
    {
        List<List<int>> rows = [[1, 2, 3], [], [4], [int.MaxValue, int.MinValue]];

        var decoded = RoundTrip(rows);

        Assert.Equal(rows, decoded);
    }

    [Fact]
    public void Null_comes_back_as_null_for_references_and_nullable_values()
    {
        Assert.Null(RoundTrip<string?>(null));
        Assert.Null(RoundTrip<Order?>(null));
        Assert.Null(RoundTrip<int?>(null));
        Assert.Null(RoundTrip(new Parcel("p", 1, null)).Note);
        Assert.Null(RoundTrip(new Shipment("s", [], [], null)).Weight);
    }

    [Property(MaxTest = 200, QuietOnSuccess = true)]
    public Property Any_list_of_strings_comes_back_equal_however_the_bytes_are_cut_into_segments() =>
        Prop.ForAll(
            Arb.From(Gen.ListOf(ArbMap.Default.GeneratorFor<string>()).Select(strings => strings.ToList())),
            Arb.From(Gen.ArrayOf(Gen.Choose(0, 10_000), 3)),
            (strings, cuts) =>
            {
                var bytes = Encode(strings);

                var decoded = Codec.Deserialize<List<string>>(Wire.Segmented(bytes, [.. cuts.Select(cut => cut % (bytes.Length + 1))]));

                Assert.Equal(strings, decoded);
            }
        );

    [Fact]
    public void Bytes_that_are_not_a_value_of_the_type_throw()
    {
        Assert.ThrowsAny<MessagePackSerializationException>(() => Codec.Deserialize<int>(new ReadOnlySequence<byte>(Encode("text"))));
        Assert.ThrowsAny<MessagePackSerializationException>(() => Codec.Deserialize<Order>(new ReadOnlySequence<byte>([0xc1])));
        Assert.ThrowsAny<MessagePackSerializationException>(() => Codec.Deserialize<string>(new ReadOnlySequence<byte>(Encode(new string('x', 100))[..50])));
    }

    [Fact]
    public void Bytes_after_the_value_throw_rather_than_being_ignored()
    {
        byte[] twoValues = [.. Encode(1), .. Encode(2)];

        var error = Assert.Throws<MessagePackSerializationException>(() => Codec.Deserialize<int>(new ReadOnlySequence<byte>(twoValues)));

        Assert.Contains("bytes follow", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_graph_nested_deeper_than_the_untrusted_limit_throws_instead_of_overflowing_the_stack()
    {
        // 100 000 nested one-element arrays: [[[[…]]]]; a trusting reader would recurse until the stack overflows.
        var bytes = Enumerable.Repeat((byte)0x91, 100_000).Append((byte)0x01).ToArray();

        Assert.ThrowsAny<MessagePackSerializationException>(() => Codec.Deserialize<object>(new ReadOnlySequence<byte>(bytes)));
    }

    [Fact]
    public void A_delegate_in_a_record_is_refused_when_the_body_is_built()
    {
        var error = Assert.Throws<ArgumentException>(() => Body.From<Callback, int>(MessagePackCodecTestBodies.Call, new MessagePackCodec()));

        Assert.Contains("MessagePackCodec", error.Message, StringComparison.Ordinal);
        Assert.Contains("reached from", error.Message, StringComparison.Ordinal);
        Assert.Contains("handle to something that lives only in this process", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_interface_is_refused_pointing_at_Union_a_concrete_type_or_JsonCodec()
    {
        var error = Assert.Throws<ArgumentException>(() => Body.From<IShape, int>(MessagePackCodecTestBodies.Area, new MessagePackCodec()));

        Assert.Contains("[Union]", error.Message, StringComparison.Ordinal);
        Assert.Contains("JsonCodec", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_class_whose_constructor_matches_no_member_is_refused_saying_what_constructor_to_write()
    {
        var error = Assert.Throws<ArgumentException>(() => Body.From<int, Sum>(MessagePackCodecTestBodies.Add, new MessagePackCodec()));

        Assert.Contains("constructor whose parameters match its public properties by name", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_record_that_is_not_public_is_refused_saying_to_make_it_public()
    {
        var error = Assert.Throws<ArgumentException>(() => Body.From<int, HiddenResult>(MessagePackCodecTestBodies.Hide, new MessagePackCodec()));

        Assert.Contains("is not public", error.Message, StringComparison.Ordinal);
        Assert.Contains("Make it public", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dictionary_keyed_by_a_record_is_refused_because_untrusted_reads_cannot_hash_it()
    {
        var error = Assert.Throws<ArgumentException>(() => Body.From<int, Dictionary<Parcel, int>>(MessagePackCodecTestBodies.Index, new MessagePackCodec()));

        Assert.Contains("keys of type Nursery.TestBodies.Parcel", error.Message, StringComparison.Ordinal);
        Assert.Contains("string", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dictionary_keyed_by_strings_as_the_refusal_advises_is_accepted()
    {
        var body = Body.From<int, Dictionary<string, Parcel>>(MessagePackCodecTestBodies.ByLabel, new MessagePackCodec());

        Assert.NotNull(body);
    }

    private static byte[] Encode<T>(T value)
    {
        var output = new ArrayBufferWriter<byte>();
        Codec.Serialize(value, output);
        return output.WrittenSpan.ToArray();
    }

    private static T RoundTrip<T>(T value) => Codec.Deserialize<T>(new ReadOnlySequence<byte>(Encode(value)));
}

public sealed record Callback(string Name, Func<int, int> Function);

public interface IShape
{
    int Area { get; }
}

public sealed class Sum
{
    public Sum(int left, int right) => Total = left + right;

    public int Total { get; }
}

internal sealed record HiddenResult(int Value);

internal static class MessagePackCodecTestBodies
{
    public static int Call(Callback callback) => callback.Function(1);

    public static int Area(IShape shape) => shape.Area;

    public static Sum Add(int x) => new(x, x);

    public static Dictionary<Parcel, int> Index(int x) => new() { [new Parcel("p", x, null)] = x };

    public static HiddenResult Hide(int x) => new(x);

    public static Dictionary<string, Parcel> ByLabel(int x) => new() { ["p"] = new Parcel("p", x, null) };
}
