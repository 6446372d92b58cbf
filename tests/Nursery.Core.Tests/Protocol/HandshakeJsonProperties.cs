using System.Buffers;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Nursery.Protocol.Tests;

/// <summary>
/// What <see cref="HandshakeJson"/> (the child host's serializer-free side of the handshake) guarantees: it writes and
/// reads exactly the JSON that <see cref="ProtocolJson"/> (the parent's side) reads and writes, for any strings, and
/// reading any bytes at all answers true or false with a reason without throwing.
/// </summary>
public sealed class HandshakeJsonProperties
{
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
    private static readonly Gen<string> Text = Gen.OneOf(
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
        select new MethodSpec(assemblyPath, typeName, methodName, token, isStatic);

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
