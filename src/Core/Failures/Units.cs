using System.Globalization;

namespace Nursery;

/// <summary>Durations and sizes as failures and results print them. Compiled into Nursery.Dataflow too.</summary>
internal static class Units
{
    /// <summary>Seconds from one second on (up to three decimals), milliseconds below.</summary>
    public static string Duration(TimeSpan span) =>
        span.TotalSeconds >= 1
            ? span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s"
            : span.TotalMilliseconds.ToString("0.#", CultureInfo.InvariantCulture) + " ms";

    /// <summary>MiB from one MiB on, bytes below.</summary>
    public static string Bytes(long bytes) =>
        bytes >= 1 << 20
            ? (bytes / (double)(1 << 20)).ToString("0.#", CultureInfo.InvariantCulture) + " MiB"
            : bytes.ToString(CultureInfo.InvariantCulture) + " bytes";
}
