using System.Buffers;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Nursery.ChildHost;

namespace Nursery.Protocol.Tests;

/// <summary>
/// What <see cref="HandshakeJson"/> (the child host's serializer-free side of the handshake) guarantees: it writes and
/// reads exactly the JSON that <see cref="ProtocolJson"/> (the parent's side) reads and writes, for any strings, and
/// reading any bytes at all answers true or false with a reason without throwing.
/// </summary>
public sealed class HandshakeJsonProperties
{
    /// <summary>The parent's options, but text written as raw UTF-8 (not \uXXXX escapes) and indented.</summary>
    private static readonly System.Text.Json.JsonSerializerOptions RawTextIndented = new(ProtocolJson.Options) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, WriteIndented = true };

    [Property(MaxTest = 300, QuietOnSuccess = true)]
    public Property A_hello_written_by_the_child_is_read_back_exactly_by_the_parent() =>
        Prop.ForAll(
            Arb.From(HandshakeGen.Hello),
            hello =>
            {
                var payload = new ReadOnlySequence<byte>(HandshakeJson.EncodeHello(hello));

                var ok = ProtocolJson.TryDecode<HelloMessage>(payload, out var decoded, out var error);

                Assert.True(ok, error);
                Assert.Equal(hello, decoded);
            }
        );

    [Property(MaxTest = 300, QuietOnSuccess = true)]
    public Property An_error_report_written_by_the_child_is_read_back_exactly_by_the_parent() =>
        Prop.ForAll(
            Arb.From(HandshakeGen.Error),
            error =>
            {
                var payload = new ReadOnlySequence<byte>(HandshakeJson.EncodeRemoteError(error));

                var ok = ProtocolJson.TryDecode<RemoteError>(payload, out var decoded, out var problem);

                Assert.True(ok, problem);
                Assert.Equal(Describe(error), Describe(decoded));
            }
        );

    [Property(MaxTest = 100, QuietOnSuccess = true)]
    public Property A_start_error_written_by_the_child_is_read_back_exactly_by_the_parent() =>
        Prop.ForAll(
            Arb.From(HandshakeGen.Error),
            Arb.From(HandshakeGen.Text),
            (error, phase) =>
            {
                var payload = new ReadOnlySequence<byte>(HandshakeJson.EncodeError(new ErrorMessage(phase, error)));

                var ok = ProtocolJson.TryDecode<ErrorMessage>(payload, out var decoded, out var problem);

                Assert.True(ok, problem);
                Assert.Equal(phase, decoded.Phase);
                Assert.Equal(Describe(error), Describe(decoded.Error));
            }
        );

    /// <summary>Every field of an error and its inner errors, in order (records compare their lists by reference).</summary>
    private static string Describe(RemoteError error) =>
        System.Text.Json.JsonSerializer.Serialize(new object[] { error.Type, error.Message, error.StackTrace, error.Inner.Select(Describe).ToArray() });

    [Property(MaxTest = 300, QuietOnSuccess = true)]
    public Property An_init_written_by_the_parent_is_read_back_exactly_by_the_child() =>
        Prop.ForAll(
            Arb.From(HandshakeGen.Init),
            init =>
            {
                var payload = new ReadOnlySequence<byte>(ProtocolJson.Encode(init));

                var ok = HandshakeJson.TryDecodeInit(payload, out var decoded, out var error);

                Assert.True(ok, error);
                Assert.Equal(init, decoded);
            }
        );

    [Property(MaxTest = 300, QuietOnSuccess = true)]
    public Property An_init_written_with_raw_UTF8_text_and_whitespace_is_read_back_exactly_by_the_child() =>
        Prop.ForAll(
            Arb.From(HandshakeGen.Init),
            init =>
            {
                var payload = new ReadOnlySequence<byte>(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(init, RawTextIndented));

                var ok = HandshakeJson.TryDecodeInit(payload, out var decoded, out var error);

                Assert.True(ok, error);
                Assert.Equal(init, decoded);
            }
        );

    [Theory]
    [InlineData("{\"Unknown\":{\"a\":[1,-2.5e+3,true,false,null,\"x\",{}],\"b\":[]},\"Body\":{\"AssemblyPath\":\"a\\/b\\u00e9\\ud83d\\ude00\",\"Extra\":0,\"IsStatic\":true},\"CodecType\":\"c\"} trailing")]
    [InlineData(" \r\n\t{ \"CodecType\" : \"c\" , \"Body\" : { } , \"HeartbeatMilliseconds\" : -0 } ")]
    public void An_init_with_unknown_properties_escapes_and_whitespace_is_read(string json)
    {
        var ok = HandshakeJson.TryDecodeInit(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(json)), out var init, out var error);

        Assert.True(ok, error);
        Assert.Equal("c", init.CodecType);
    }

    [Property(MaxTest = 500, QuietOnSuccess = true)]
    public Property Any_bytes_read_as_an_init_give_true_or_false_with_a_reason_and_never_throw() =>
        Prop.ForAll(
            Arb.From(HandshakeGen.InitLikeBytes),
            bytes =>
            {
                var ok = HandshakeJson.TryDecodeInit(new ReadOnlySequence<byte>(bytes), out _, out var error);

                Assert.True(ok || error.Length > 0, "false without a reason");
            }
        );

    [Theory]
    [InlineData("")]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("{")]
    [InlineData("{\"Body\":1,\"CodecType\":\"c\"}")]
    [InlineData("{\"CodecType\":\"c\"}")]
    [InlineData("{\"Body\":{\"AssemblyPath\":\"a\"},\"HeartbeatMilliseconds\":\"often\",\"CodecType\":\"c\"}")]
    [InlineData("{\"Body\":{},\"HeartbeatMilliseconds\":1.5,\"CodecType\":\"c\"}")]
    [InlineData("{\"Body\":{},\"HeartbeatMilliseconds\":2147483648,\"CodecType\":\"c\"}")]
    [InlineData("{\"Body\":{},\"CodecType\":\"c\",}")]
    [InlineData("{\"Body\":{},\"CodecType\":\"c\\x\"}")]
    [InlineData("{\"Body\":{\"IsStatic\":1},\"CodecType\":\"c\"}")]
    [InlineData("{\"Body\":{},\"CodecType\":\"c\u0001\"}")]
    public void A_malformed_init_is_refused_with_a_reason(string json)
    {
        var ok = HandshakeJson.TryDecodeInit(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(json)), out _, out var error);

        Assert.False(ok);
        Assert.NotEmpty(error);
    }
}

/// <summary>Handshake messages with any text in their strings (quotes, backslashes, control characters, non-ASCII; no lone surrogates, which UTF-8 cannot carry).</summary>
internal static class HandshakeGen
{
    public static readonly Gen<string> Text = Gen.OneOf(
            Gen.Elements('a', 'Z', '0', '.', '/', ' ', '"', '\\', '\n', '\t', '\u0001', '\u001f', '\u007f', 'é', '€', '中', '<', '>', '&', '\''),
            ArbMap.Default.GeneratorFor<char>().Where(character => !char.IsSurrogate(character))
        )
        .ArrayOf()
        .Select(characters => new string(characters));

    private static readonly Gen<MethodSpec> Method =
        from assemblyPath in Text
        from typeName in Text
        from methodName in Text
        from token in ArbMap.Default.GeneratorFor<int>()
        from isStatic in ArbMap.Default.GeneratorFor<bool>()
        from moduleVersionId in Gen.OneOf(Gen.Constant(""), ArbMap.Default.GeneratorFor<Guid>().Select(guid => guid.ToString("N")), Text)
        select new MethodSpec(assemblyPath, typeName, methodName, token, isStatic, moduleVersionId);

    public static readonly Gen<HelloMessage> Hello =
        from magic in Text
        from version in ArbMap.Default.GeneratorFor<int>()
        from processId in ArbMap.Default.GeneratorFor<int>()
        from runtime in Text
        from host in Text
        from jobId in Text
        select new HelloMessage(magic, version, processId, runtime, host, jobId);

    public static readonly Gen<InitMessage> Init =
        from body in Method
        from initializer in Gen.OneOf(Gen.Constant<MethodSpec?>(null), Method.Select(method => (MethodSpec?)method))
        from stateJson in Gen.OneOf(Gen.Constant<string?>(null), Text.Select(text => (string?)text))
        from heartbeat in ArbMap.Default.GeneratorFor<int>()
        from codecType in Text
        from progressPath in Gen.OneOf(Gen.Constant<string?>(null), Text.Select(text => (string?)text))
        select new InitMessage(body, initializer, stateJson, heartbeat, codecType, progressPath);

    /// <summary>An exception report with up to two levels of inner errors.</summary>
    public static readonly Gen<RemoteError> Error = ErrorOfDepth(2);

    private static Gen<RemoteError> ErrorOfDepth(int depth) =>
        from type in Text
        from message in Text
        from stackTrace in Text
        from inner in depth == 0 ? Gen.Constant(Array.Empty<RemoteError>()) : ErrorOfDepth(depth - 1).ArrayOf().Select(errors => errors.Take(3).ToArray())
        select new RemoteError(type, message, stackTrace, inner);

    /// <summary>A valid Init's JSON with some bytes changed, cut short or left as is, or random bytes.</summary>
    public static readonly Gen<byte[]> InitLikeBytes = Gen.OneOf(
        from init in Init
        from at in Gen.Choose(0, 1000)
        from value in ArbMap.Default.GeneratorFor<byte>()
        from mode in Gen.Choose(0, 2)
        select Spoil(ProtocolJson.Encode(init), at, value, mode),
        ArbMap.Default.GeneratorFor<byte[]>().Where(bytes => bytes is not null)
    );

    private static byte[] Spoil(byte[] json, int at, byte value, int mode)
    {
        if (json.Length == 0 || mode == 0)
            return json;
        var index = at % json.Length;
        if (mode == 1)
            return json[..index];
        json[index] = value;
        return json;
    }
}
