using System.Globalization;

namespace Nursery.Etl;

/// <summary>Reads sizes (256M, 1G, 1048576) and durations (500ms, 5s, 2m, 1h) from the command line.</summary>
internal static class Units
{
    public static long Bytes(string? text, string option)
    {
        if (string.IsNullOrWhiteSpace(text))
            return 0;
        var (number, unit) = Split(text.Trim().TrimEnd('B', 'b', 'i'), text, option, "a size such as 256M or 1G");
        long factor = unit.ToUpperInvariant() switch
        {
            "" => 1,
            "K" => 1L << 10,
            "M" => 1L << 20,
            "G" => 1L << 30,
            _ => throw new FormatException($"{option}: '{text}' is not a size such as 256M or 1G"),
        };
        return number > 0 ? (long)(number * factor) : throw new FormatException($"{option}: '{text}' must be more than 0");
    }

    public static TimeSpan Duration(string? text, string option)
    {
        if (string.IsNullOrWhiteSpace(text))
            return Timeout.InfiniteTimeSpan;
        var (number, unit) = Split(text.Trim(), text, option, "a duration such as 500ms, 5s or 2m");
        var span = unit switch
        {
            "ms" => TimeSpan.FromMilliseconds(number),
            "s" or "" => TimeSpan.FromSeconds(number),
            "m" => TimeSpan.FromMinutes(number),
            "h" => TimeSpan.FromHours(number),
            _ => throw new FormatException($"{option}: '{text}' is not a duration such as 500ms, 5s or 2m"),
        };
        return span > TimeSpan.Zero ? span : throw new FormatException($"{option}: '{text}' must be more than 0");
    }

    private static (double Number, string Unit) Split(string text, string given, string option, string expected)
    {
        var end = 0;
        while (end < text.Length && (char.IsDigit(text[end]) || text[end] == '.'))
            end++;
        return double.TryParse(text[..end], NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            ? (number, text[end..])
            : throw new FormatException($"{option}: '{given}' is not {expected}");
    }
}
