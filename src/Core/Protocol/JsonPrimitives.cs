namespace Nursery.Protocol;

/// <summary>
/// The types <see cref="JsonCodec"/> writes and reads with <see cref="System.Text.Json.Utf8JsonWriter"/> and
/// <see cref="System.Text.Json.Utf8JsonReader"/> directly: the serializer's first use costs a fresh child tens of
/// milliseconds of metadata and converter set-up, which a body of ints or strings does not need. The bytes are the ones
/// the serializer's own converters write. The child host asks too, to know what it need not warm up.
/// </summary>
internal static class JsonPrimitives
{
    /// <summary>Whether <paramref name="type"/> is one of them.</summary>
    public static bool Contains(Type type) =>
        type == typeof(int) || type == typeof(long) || type == typeof(double) || type == typeof(bool) || type == typeof(string);
}
