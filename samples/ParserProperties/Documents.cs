using FsCheck;
using FsCheck.Fluent;

namespace ParserProperties;

/// <summary>A number nested in <see cref="Depth"/> lists: <c>[[[1]]]</c> for depth 3.</summary>
public sealed record Nested(int Depth)
{
    public string Text() => new string('[', Depth) + "1" + new string(']', Depth);
}

/// <summary>The generators: nested documents up to 200,000 deep (shrunk by depth), and short texts from the parser's alphabet.</summary>
public static class Documents
{
    public const int DeepestNesting = 200_000;

    /// <summary>Depths from 0 to <see cref="DeepestNesting"/>; a failing depth shrinks as an integer does (toward 0, halving the distance).</summary>
    public static Arbitrary<Nested> Nested { get; } =
        Arb.From(Gen.Choose(0, DeepestNesting).Select(depth => new Nested(depth)), nested => ArbMap.Default.ArbFor<int>().Shrinker(nested.Depth).Where(depth => depth >= 0).Select(depth => new Nested(depth)));

    /// <summary>Shallow documents only, which the parser handles.</summary>
    public static Arbitrary<Nested> Shallow { get; } = Arb.From(Gen.Choose(0, 100).Select(depth => new Nested(depth)));

    /// <summary>
    /// Lists of up to six numbers and strings with escapes (<c>[12,"a\"b"]</c>), cut at a random place, as a document being typed
    /// or read from a broken file is; shrunk as strings are (characters removed, then simplified).
    /// </summary>
    public static Arbitrary<string> CutDocuments { get; } =
        Arb.From(
            from values in Gen.OneOf(Gen.Choose(0, 99).Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)), StringLiteral).ListOf().Resize(6)
            let document = "[" + string.Join(",", values) + "]"
            from cut in Gen.Choose(0, document.Length)
            select document[..cut],
            ArbMap.Default.ArbFor<string>().Shrinker
        );

    private static Gen<string> StringLiteral =>
        Gen.Elements("a", "b", "\\\"", "\\\\").ListOf().Resize(4).Select(parts => "\"" + string.Concat(parts) + "\"");
}
