using System.Buffers;

namespace Nursery.Micro;

/// <summary>A small record, as a stage's item often is.</summary>
public sealed record LineItem(string Sku, int Quantity, double Price, string[] Tags);

/// <summary>The values the benchmarks encode, and the codecs by name.</summary>
public static class Payloads
{
    public const int TenKib = 10 * 1024;

    public static readonly LineItem Record = new("SKU-000123", 7, 19.99, ["red", "large"]);

    /// <summary>10 KiB of letters and digits: nothing for JSON to escape.</summary>
    public static readonly string AsciiText = string.Create(TenKib, 0, static (span, _) =>
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        for (var i = 0; i < span.Length; i++)
            span[i] = alphabet[i % alphabet.Length];
    });

    /// <summary>10 Ki characters of prose with accents, quotes and line breaks: what JSON escapes (its default encoder escapes all non-ASCII).</summary>
    public static readonly string MixedText = string.Create(TenKib, 0, static (span, _) =>
    {
        const string prose = "Le café « noir » coûte 2 €; he said \"fine\".\n";
        for (var i = 0; i < span.Length; i++)
            span[i] = prose[i % prose.Length];
    });

    public static ICodec Codec(string name) =>
        name switch
        {
            "Json" => new JsonCodec(),
            "MessagePack" => new MessagePackCodec(),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Json or MessagePack"),
        };

    public static byte[] Encode<T>(ICodec codec, T value)
    {
        var output = new ArrayBufferWriter<byte>();
        codec.Serialize(value, output);
        return output.WrittenSpan.ToArray();
    }

    public static IEnumerable<(string Name, int Json, int MessagePack)> Sizes()
    {
        ICodec json = new JsonCodec(), messagePack = new MessagePackCodec();
        yield return ("int 123456", Encode(json, 123_456).Length, Encode(messagePack, 123_456).Length);
        yield return ("record LineItem", Encode(json, Record).Length, Encode(messagePack, Record).Length);
        yield return ("10 KiB ASCII string", Encode(json, AsciiText).Length, Encode(messagePack, AsciiText).Length);
        yield return ("10 Ki-char non-ASCII string", Encode(json, MixedText).Length, Encode(messagePack, MixedText).Length);
    }
}
