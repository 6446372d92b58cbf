using System.Buffers;
using System.Text.Json;

namespace Nursery.Protocol;

/// <summary>JSON for control frames (not for items: those go through the stage's <see cref="ICodec"/>).</summary>
internal static class ProtocolJson
{
    /// <summary>Options backed by the generated metadata, falling back to reflection for other types (initializer state).</summary>
    public static readonly JsonSerializerOptions Options = CreateOptions();

    public static byte[] Encode<T>(T message) => JsonSerializer.SerializeToUtf8Bytes(message, Options);

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.General)
        {
            TypeInfoResolver = System.Text.Json.Serialization.Metadata.JsonTypeInfoResolver.Combine(ProtocolJsonContext.Default, new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver()),
        };
        options.MakeReadOnly();
        return options;
    }

    public static bool TryDecode<T>(ReadOnlySequence<byte> payload, out T message, out string error)
        where T : class
    {
        try
        {
            var reader = new Utf8JsonReader(payload);
            message = JsonSerializer.Deserialize<T>(ref reader, Options)!;
            error = message is null ? $"an empty {typeof(T).Name}" : "";
            return message is not null;
        }
        catch (JsonException exception)
        {
            message = null!;
            error = $"an unreadable {typeof(T).Name}: {exception.Message}";
            return false;
        }
    }
}
