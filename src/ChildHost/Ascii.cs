namespace Nursery.ChildHost;

/// <summary>
/// Plain loops for the ASCII text of the handshake (paths, type names, numbers). The framework's UTF-8 transcoder is
/// vectorised, and its first use costs a fresh child host milliseconds of set-up on its way to Ready; the handshake's
/// strings are short and almost always ASCII. Anything else still goes through <see cref="System.Text.Encoding.UTF8"/>.
/// </summary>
internal static class Ascii
{
    /// <summary>The bytes as a string when every one is ASCII; false (and no string) otherwise.</summary>
    public static bool TryWiden(ReadOnlySpan<byte> bytes, out string text)
    {
        foreach (var b in bytes)
        {
            if (b >= 0x80)
            {
                text = "";
                return false;
            }
        }
        text = string.Create(bytes.Length, bytes.ToArray(), static (chars, source) =>
        {
            for (var i = 0; i < source.Length; i++)
                chars[i] = (char)source[i];
        });
        return true;
    }

    /// <summary>The text as UTF-8: byte for char when it is all ASCII, else through the framework's encoder.</summary>
    public static byte[] NarrowOrEncode(string text)
    {
        foreach (var c in text)
        {
            if (c >= 0x80)
                return System.Text.Encoding.UTF8.GetBytes(text);
        }
        var bytes = new byte[text.Length];
        for (var i = 0; i < text.Length; i++)
            bytes[i] = (byte)text[i];
        return bytes;
    }
}
