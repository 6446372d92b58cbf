using System.Buffers;
using System.Text.Json;

namespace Nursery;

/// <summary>The default codec: System.Text.Json with public fields included, readable on the wire and in logs.</summary>
public sealed class JsonCodec : ICodec
{
    private static readonly JsonSerializerOptions Options = CreateOptions();

    [ThreadStatic]
    private static Utf8JsonWriter? _writer;

    /// <inheritdoc />
    public void Serialize<T>(T value, IBufferWriter<byte> output)
    {
        var writer = _writer;
        if (writer is null)
            _writer = writer = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true });
        else
            writer.Reset(output);
        try
        {
            JsonSerializer.Serialize(writer, value, Options);
            writer.Flush();
        }
        finally
        {
            writer.Reset();
        }
    }

    /// <inheritdoc />
    public T Deserialize<T>(in ReadOnlySequence<byte> input)
    {
        // An item's payload is one contiguous slice of a frame: the span overload skips the reader's scan for the value's end.
        if (input.IsSingleSegment)
            return JsonSerializer.Deserialize<T>(input.FirstSpan, Options)!;
        var reader = new Utf8JsonReader(input);
        return JsonSerializer.Deserialize<T>(ref reader, Options)!;
    }

    private static JsonSerializerOptions CreateOptions()
    {
        // Text goes on the wire as UTF-8, not \uXXXX escapes: the payload is read by the other side's decoder, never
        // embedded in HTML, so the default encoder's HTML-safe escaping only made non-ASCII text 7-8x slower and bigger.
        var options = new JsonSerializerOptions(JsonSerializerDefaults.General)
        {
            IncludeFields = true,
            TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        options.MakeReadOnly();
        return options;
    }

    /// <inheritdoc />
    public void EnsureSupported(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (typeof(Delegate).IsAssignableFrom(type) || type == typeof(IntPtr) || type == typeof(UIntPtr) || type.IsPointer || type == typeof(Type) || typeof(System.Reflection.MemberInfo).IsAssignableFrom(type))
            throw new NotSupportedException($"{type} cannot be sent to a child process: it is a handle to something that lives only in this process.");
        try
        {
            _ = Options.GetTypeInfo(type);
        }
        catch (Exception exception) when (exception is NotSupportedException or InvalidOperationException or ArgumentException)
        {
            throw new NotSupportedException($"{type} cannot be serialized as JSON: {exception.Message}", exception);
        }
    }
}
