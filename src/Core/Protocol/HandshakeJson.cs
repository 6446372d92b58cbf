using System.Buffers;
using System.Text.Json;

namespace Nursery.Protocol;

/// <summary>
/// The child host's side of the handshake (Hello out, Init in) without the JSON serializer: the JSON is what
/// <see cref="ProtocolJson"/> writes and reads (the parent still uses it), but the serializer's first use costs a fresh
/// process tens of milliseconds of metadata set-up, even with the generated context, and every child would pay that
/// before it could say hello.
/// </summary>
internal static class HandshakeJson
{
    /// <summary>
    /// The Hello message as JSON, as <see cref="ProtocolJson.Encode{T}"/> would write it (same property names; strings
    /// escaped only where JSON requires it). Written byte by byte: even <see cref="Utf8JsonWriter"/>'s first use sets
    /// up an escaping encoder, milliseconds of a child's start.
    /// </summary>
    public static byte[] EncodeHello(HelloMessage hello)
    {
        var json = new System.Text.StringBuilder(128)
            .Append("{\"Magic\":").AppendJsonString(hello.Magic)
            .Append(",\"Version\":").Append(hello.Version.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Append(",\"ProcessId\":").Append(hello.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Append(",\"Runtime\":").AppendJsonString(hello.Runtime)
            .Append(",\"Host\":").AppendJsonString(hello.Host)
            .Append(",\"JobId\":").AppendJsonString(hello.JobId)
            .Append('}');
        return System.Text.Encoding.UTF8.GetBytes(json.ToString());
    }

    /// <summary>Appends <paramref name="value"/> as a JSON string: quotes, backslashes and control characters escaped, the rest as is.</summary>
    private static System.Text.StringBuilder AppendJsonString(this System.Text.StringBuilder json, string value)
    {
        json.Append('"');
        foreach (var character in value)
        {
            _ = character switch
            {
                '"' => json.Append("\\\""),
                '\\' => json.Append("\\\\"),
                < ' ' => json.Append("\\u").Append(((int)character).ToString("x4", System.Globalization.CultureInfo.InvariantCulture)),
                _ => json.Append(character),
            };
        }
        return json.Append('"');
    }

    /// <summary>
    /// Reads an Init message as <see cref="ProtocolJson.TryDecode{T}"/> would: property names match exactly, unknown
    /// properties are skipped, missing optional ones keep their defaults. Malformed input gives false and a reason.
    /// </summary>
    public static bool TryDecodeInit(in ReadOnlySequence<byte> payload, out InitMessage init, out string error)
    {
        init = null!;
        try
        {
            var reader = new Utf8JsonReader(payload);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = reader.TokenType == JsonTokenType.Null ? "an empty InitMessage" : "an unreadable InitMessage: not a JSON object";
                return false;
            }
            MethodSpec? body = null;
            MethodSpec? initializer = null;
            string? stateJson = null;
            string? codecType = null;
            string? progressPath = null;
            var heartbeat = 0;
            while (ReadProperty(ref reader, out var name))
            {
                switch (name)
                {
                    case nameof(InitMessage.Body):
                        body = ReadMethodSpec(ref reader);
                        break;
                    case nameof(InitMessage.Initializer):
                        initializer = ReadMethodSpec(ref reader);
                        break;
                    case nameof(InitMessage.StateJson):
                        stateJson = reader.GetString();
                        break;
                    case nameof(InitMessage.HeartbeatMilliseconds):
                        heartbeat = reader.GetInt32();
                        break;
                    case nameof(InitMessage.CodecType):
                        codecType = reader.GetString();
                        break;
                    case nameof(InitMessage.ProgressPath):
                        progressPath = reader.GetString();
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }
            if (body is null || codecType is null)
            {
                error = $"an unreadable InitMessage: {(body is null ? nameof(InitMessage.Body) : nameof(InitMessage.CodecType))} is missing";
                return false;
            }
            init = new InitMessage(body, initializer, stateJson, heartbeat, codecType, progressPath);
            error = "";
            return true;
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException or FormatException)
        {
            error = $"an unreadable InitMessage: {exception.Message}";
            return false;
        }
    }

    private static MethodSpec? ReadMethodSpec(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
            return null;
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new JsonException("a MethodSpec is not a JSON object");
        string? assemblyPath = null;
        string? typeName = null;
        string? methodName = null;
        var token = 0;
        var isStatic = false;
        while (ReadProperty(ref reader, out var name))
        {
            switch (name)
            {
                case nameof(MethodSpec.AssemblyPath):
                    assemblyPath = reader.GetString();
                    break;
                case nameof(MethodSpec.TypeName):
                    typeName = reader.GetString();
                    break;
                case nameof(MethodSpec.MethodName):
                    methodName = reader.GetString();
                    break;
                case nameof(MethodSpec.MetadataToken):
                    token = reader.GetInt32();
                    break;
                case nameof(MethodSpec.IsStatic):
                    isStatic = reader.GetBoolean();
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        return new MethodSpec(assemblyPath!, typeName!, methodName!, token, isStatic);
    }

    /// <summary>Moves to the next property's value and gives its name; false at the end of the object.</summary>
    private static bool ReadProperty(ref Utf8JsonReader reader, out string name)
    {
        if (!reader.Read())
            throw new JsonException("the JSON ends inside an object");
        if (reader.TokenType == JsonTokenType.EndObject)
        {
            name = "";
            return false;
        }
        name = reader.GetString()!;
        if (!reader.Read())
            throw new JsonException($"the JSON ends before the value of '{name}'");
        return true;
    }
}
