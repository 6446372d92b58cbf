using System.Text;

namespace TinyParser;

/// <summary>What <see cref="Parser.Parse"/> made of a text: whether it is one value, how deep its lists nest, how many values it holds.</summary>
public sealed record Parsed(bool Ok, int Depth, int Values, string? Error);

/// <summary>
/// Parses one value: a number (<c>42</c>), a string (<c>"a\"b"</c>) or a list of values (<c>[1, "x", [2]]</c>); a
/// backslash before a line break joins two lines. The text is cut into tokens first, then a recursive descent reads
/// them. It has two bugs that end the process running it, not just the call: each level of nesting takes a level of
/// the stack, so deep enough nesting overflows it (and a stack overflow cannot be caught in .NET); and a backslash as
/// the very last character makes the tokenizer loop forever.
/// </summary>
public static class Parser
{
    /// <summary>The text's value, or what is wrong with the text.</summary>
    public static Parsed Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = Tokenize(text);
        var position = 0;
        try
        {
            var (depth, values) = Value(tokens, ref position);
            return position == tokens.Count ? new Parsed(true, depth, values, null) : new Parsed(false, 0, 0, $"unexpected {tokens[position]} after the value");
        }
        catch (FormatException error)
        {
            return new Parsed(false, 0, 0, error.Message);
        }
    }

    /// <summary>Brackets and commas as themselves, numbers as "0", strings as "\"", anything else as "?" followed by it.</summary>
    private static List<string> Tokenize(string text)
    {
        var tokens = new List<string>();
        var at = 0;
        while (at < text.Length)
        {
            var c = text[at];
            if (char.IsWhiteSpace(c))
                at++;
            else if (c == '\\')
                at = SkipEscape(text, at);
            else if (c is '[' or ']' or ',')
            {
                tokens.Add(c.ToString());
                at++;
            }
            else if (c == '-' || char.IsAsciiDigit(c))
            {
                at++;
                while (at < text.Length && char.IsAsciiDigit(text[at]))
                    at++;
                tokens.Add("0");
            }
            else if (c == '"')
                at = String(text, at, tokens);
            else
            {
                tokens.Add("?" + c);
                at++;
            }
        }
        return tokens;
    }

    private static int String(string text, int at, List<string> tokens)
    {
        var value = new StringBuilder();
        at++;
        while (at < text.Length && text[at] != '"')
        {
            if (text[at] == '\\')
            {
                var next = SkipEscape(text, at);
                if (next == at + 2)
                    value.Append(text[at + 1]);
                at = next;
            }
            else
                value.Append(text[at++]);
        }
        tokens.Add(at < text.Length ? "\"" : "?unclosed string");
        return at + 1;
    }

    /// <summary>Where the text goes on after the backslash at <paramref name="at"/> and the character it escapes.</summary>
    private static int SkipEscape(string text, int at) =>
        // The bug: a backslash needs a character after it; at the end of the text there is none, and the caller is
        // sent back to the backslash, for ever.
        at + 1 < text.Length ? at + 2 : at;

    /// <summary>One value from the tokens: its nesting depth and how many values it holds (itself included).</summary>
    private static (int Depth, int Values) Value(List<string> tokens, ref int position)
    {
        if (position == tokens.Count)
            throw new FormatException("a value was expected at the end");
        var token = tokens[position++];
        return token switch
        {
            "[" => List(tokens, ref position),
            "0" or "\"" => (0, 1),
            _ => throw new FormatException($"unexpected {token}"),
        };
    }

    private static (int Depth, int Values) List(List<string> tokens, ref int position)
    {
        if (position < tokens.Count && tokens[position] == "]")
        {
            position++;
            return (1, 1);
        }
        var depth = 0;
        var values = 1;
        while (true)
        {
            var (innerDepth, innerValues) = Value(tokens, ref position);
            depth = Math.Max(depth, innerDepth);
            values += innerValues;
            if (position == tokens.Count)
                throw new FormatException("a list is not closed");
            var token = tokens[position++];
            if (token == "]")
                return (depth + 1, values);
            if (token != ",")
                throw new FormatException($"',' or ']' was expected, not {token}");
        }
    }
}
