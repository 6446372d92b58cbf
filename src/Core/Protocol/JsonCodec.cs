using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Nursery.Protocol;

namespace Nursery;

/// <summary>
/// The default codec: System.Text.Json with public fields included, readable on the wire and in logs. Give it options
/// of your own (converters, naming, a source-generated context) by deriving a codec with a public parameterless
/// constructor, which the child calls to make the same codec:
/// <c>public sealed class OrdersCodec() : JsonCodec(OrdersJsonContext.Default);</c>
/// Whatever the options, <see cref="int"/>, <see cref="long"/>, <see cref="double"/>, <see cref="bool"/> and
/// <see cref="string"/> items are written and read as plain JSON values by the codec itself.
/// </summary>
public class JsonCodec : ICodec
{
    /// <summary>The options given to the constructor; null for the default options, made on first use.</summary>
    private readonly JsonSerializerOptions? _options;

    /// <summary>
    /// The type information last written with (and, below, last read with): one side of a body writes one type and
    /// reads another, so each is found without a lookup after the first item.
    /// </summary>
    private JsonTypeInfo? _lastWritten;

    private JsonTypeInfo? _lastRead;

    /// <summary>The default codec: System.Text.Json's defaults, public fields included, text as UTF-8.</summary>
    public JsonCodec() { }

    /// <summary>
    /// A codec that reads and writes with <paramref name="options"/> (made read-only here). A type the options cannot
    /// round-trip is refused when a body is built with this codec, not item by item when it runs. Derive a codec with a
    /// public parameterless constructor that passes the options: the child creates the codec with that constructor.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    protected JsonCodec(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.IsReadOnly)
        {
            options.TypeInfoResolver ??= new DefaultJsonTypeInfoResolver();
            options.MakeReadOnly();
        }
        _options = options;
    }

    /// <summary>
    /// A codec that reads and writes with the type information a source-generated <paramref name="context"/> holds
    /// (no reflection at run time: fit for trimming and native AOT). A type the context does not name is refused when a
    /// body is built with this codec; name it with <c>[JsonSerializable(typeof(…))]</c> on the context.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="context"/> is null.</exception>
    protected JsonCodec(JsonSerializerContext context)
        : this((context ?? throw new ArgumentNullException(nameof(context))).Options) { }

    /// <summary>The options this codec reads and writes with.</summary>
    public JsonSerializerOptions Options => _options ?? Serializer.Options;

    /// <summary>
    /// The type information for <typeparamref name="T"/>, kept in <paramref name="last"/>; the serializer's overloads
    /// that take it need no reflection.
    /// </summary>
    private JsonTypeInfo<T> TypeInfo<T>(ref JsonTypeInfo? last)
    {
        if (last is JsonTypeInfo<T> known)
            return known;
        var info = (JsonTypeInfo<T>)Options.GetTypeInfo(typeof(T));
        last = info;
        return info;
    }

    [ThreadStatic]
    private static Utf8JsonWriter? _writer;

    /// <summary>
    /// The writer's encoder is the one that counts (a serializer writing to a given writer ignores its options' encoder):
    /// text goes out as UTF-8, not \uXXXX escapes, for the reasons given in <see cref="Serializer"/>.
    /// </summary>
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <inheritdoc />
    public void Serialize<T>(T value, IBufferWriter<byte> output)
    {
        // Integers are written straight into the output: the digits the writer would produce, without its set-up per item.
        if (typeof(T) == typeof(int))
        {
            WriteInteger((int)(object)value!, output);
            return;
        }
        if (typeof(T) == typeof(long))
        {
            WriteInteger((long)(object)value!, output);
            return;
        }
        if (typeof(T) == typeof(string) && value is string text && TryWritePlainString(text, output))
            return;
        var writer = _writer;
        if (writer is null)
            _writer = writer = new Utf8JsonWriter(output, WriterOptions);
        else
            writer.Reset(output);
        try
        {
            if (!TryWritePrimitive(writer, value))
                JsonSerializer.Serialize(writer, value, TypeInfo<T>(ref _lastWritten));
            writer.Flush();
        }
        finally
        {
            writer.Reset();
        }
    }

    /// <summary>An integer as JSON: optional minus and decimal digits, as <see cref="Utf8JsonWriter"/> writes it.</summary>
    private static void WriteInteger(long value, IBufferWriter<byte> output)
    {
        var span = output.GetSpan(20);
        if (!System.Buffers.Text.Utf8Formatter.TryFormat(value, span, out var written))
            throw new InvalidOperationException("an integer did not fit in 20 bytes");
        output.Advance(written);
    }

    /// <inheritdoc />
    public T Deserialize<T>(in ReadOnlySequence<byte> input)
    {
        if ((typeof(T) == typeof(int) || typeof(T) == typeof(long)) && input.IsSingleSegment && TryReadPlainInteger(input.FirstSpan, out var integer))
        {
            if (typeof(T) == typeof(long))
                return (T)(object)integer;
            if (integer is >= int.MinValue and <= int.MaxValue)
                return (T)(object)(int)integer;
        }
        if (typeof(T) == typeof(string) && TryReadPlainString(input, out var plain))
            return (T)(object)plain;
        if (IsPrimitive<T>() && TryReadPrimitive(input, out T value))
            return value;
        // An item's payload is one contiguous slice of a frame: the span overload skips the reader's scan for the value's end.
        if (input.IsSingleSegment)
            return JsonSerializer.Deserialize(input.FirstSpan, TypeInfo<T>(ref _lastRead))!;
        // A payload split across the parent's read buffers is made contiguous, so that it is read by the same rules: a
        // reader over the segments would stop after the first value and accept whatever follows it.
        var length = checked((int)input.Length);
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            input.CopyTo(rented);
            return JsonSerializer.Deserialize(rented.AsSpan(0, length), TypeInfo<T>(ref _lastRead))!;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Never called. Names this codec's methods for the types it writes itself, so that ReadyToRun compiles them into
    /// the library's image; otherwise each is compiled just in time in every fresh child before its first reply (the
    /// child host names its invokers for the same types).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    internal static void NamePrecompiledInstantiations(ICodec codec, IBufferWriter<byte> output)
    {
        Name<int>(codec, output);
        Name<long>(codec, output);
        Name<double>(codec, output);
        Name<bool>(codec, output);
        Name<string>(codec, output);

        static void Name<T>(ICodec codec, IBufferWriter<byte> output)
        {
            codec.Serialize(default(T)!, output);
            _ = codec.Deserialize<T>(default);
            var json = new JsonCodec();
            json.Serialize(default(T)!, output);
            _ = json.Deserialize<T>(default);
        }
    }

    /// <inheritdoc />
    public void EnsureSupported(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (JsonPrimitives.Contains(type))
            return;
        EnsureRoundTrips(Options, type, type.ToString(), []);
    }

    /// <summary>
    /// Refuses a type whose values would not come back as they were sent: a handle of this process (<see cref="Crossing"/>),
    /// a type System.Text.Json cannot handle, or an interface or abstract class it cannot create (a collection interface
    /// it can, or one that names its implementations with [JsonDerivedType]); then the same for every member it writes,
    /// every element, key and declared derived type. <paramref name="path"/> names where the type was met.
    /// </summary>
    private static void EnsureRoundTrips(JsonSerializerOptions options, Type type, string path, System.Collections.Generic.HashSet<Type> seen)
    {
        if (JsonPrimitives.Contains(type) || !seen.Add(type))
            return;
        if (Crossing.WhyNot(type) is { } reason)
            throw new NotSupportedException(path == type.ToString() ? $"{reason}." : $"{path} is a {type}: {reason}.");
        System.Text.Json.Serialization.Metadata.JsonTypeInfo info;
        try
        {
            info = options.GetTypeInfo(type);
        }
        catch (Exception exception) when (exception is NotSupportedException or InvalidOperationException or ArgumentException)
        {
            throw new NotSupportedException($"{(path == type.ToString() ? type.ToString() : $"{path} ({type})")} cannot be serialized as JSON: {exception.Message}", exception);
        }
        if (FSharpTypes.IsUnionWithoutConverter(type, info))
        {
            throw new NotSupportedException(
                $"{(path == type.ToString() ? type.ToString() : $"{path} ({type})")} is an F# discriminated union, which System.Text.Json does not serialize. "
                    + "Use Nursery.FSharp's codec, which handles F# unions, records and options: Nursery.FSharp's Pipeline.stage and Pipeline.body use it by default; "
                    + "elsewhere pass new Nursery.FSharp.FSharpJsonCodec() as the body's codec."
            );
        }
        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            EnsureRoundTrips(options, underlying, path, seen);
            return;
        }
        switch (info.Kind)
        {
            case System.Text.Json.Serialization.Metadata.JsonTypeInfoKind.Object:
                if ((type.IsInterface || type.IsAbstract) && info.PolymorphismOptions is null)
                {
                    var what = type.IsInterface ? "an interface" : "an abstract class";
                    throw new NotSupportedException(
                        $"{(path == type.ToString() ? type.ToString() : $"{path} ({type})")} is {what}: the child cannot tell which concrete type to create. Use a concrete record or class, or name the implementations with [JsonDerivedType] on {type.Name}."
                    );
                }
                foreach (var derived in info.PolymorphismOptions?.DerivedTypes ?? [])
                    EnsureRoundTrips(options, derived.DerivedType, derived.DerivedType.ToString(), seen);
                foreach (var property in info.Properties)
                    EnsureRoundTrips(options, property.PropertyType, $"{path}.{property.Name}", seen);
                break;
            case System.Text.Json.Serialization.Metadata.JsonTypeInfoKind.Enumerable:
                if (info.ElementType is { } element)
                    EnsureRoundTrips(options, element, $"an element of {path}", seen);
                break;
            case System.Text.Json.Serialization.Metadata.JsonTypeInfoKind.Dictionary:
                if (info.KeyType is { } key)
                    EnsureRoundTrips(options, key, $"a key of {path}", seen);
                if (info.ElementType is { } value)
                    EnsureRoundTrips(options, value, $"a value of {path}", seen);
                break;
            default:
                // A converter of its own (enums, dates, JsonElement, F# types...): it reads what it writes.
                break;
        }
    }

    /// <summary>Whether <typeparamref name="T"/> is one of <see cref="JsonPrimitives"/>, as a constant once compiled for a value type.</summary>
    private static bool IsPrimitive<T>() =>
        typeof(T) == typeof(int) || typeof(T) == typeof(long) || typeof(T) == typeof(double) || typeof(T) == typeof(bool) || typeof(T) == typeof(string);

    private static bool TryWritePrimitive<T>(Utf8JsonWriter writer, T value)
    {
        // typeof(T) tests are constants for value types once compiled: the other branches disappear.
        if (typeof(T) == typeof(int))
            writer.WriteNumberValue((int)(object)value!);
        else if (typeof(T) == typeof(long))
            writer.WriteNumberValue((long)(object)value!);
        else if (typeof(T) == typeof(double))
            writer.WriteNumberValue((double)(object)value!);
        else if (typeof(T) == typeof(bool))
            writer.WriteBooleanValue((bool)(object)value!);
        else if (typeof(T) == typeof(string))
        {
            if (value is string text)
                writer.WriteStringValue(text);
            else
                writer.WriteNullValue();
        }
        else
            return false;
        return true;
    }

    /// <summary>
    /// The common case of an integer item without a JSON reader: optional JSON whitespace around an optional minus and
    /// decimal digits without a leading zero — the only form the writer produces, and one every JSON reader reads the
    /// same way. Anything else (a fraction, an exponent, a string, too many digits...) gives false and goes the reader's
    /// way, which accepts or refuses it as before. (A reader per item was a tenth of a child's CPU for int items.)
    /// </summary>
    private static bool TryReadPlainInteger(ReadOnlySpan<byte> json, out long value)
    {
        value = 0;
        var start = 0;
        var end = json.Length;
        while (start < end && IsJsonWhitespace(json[start]))
            start++;
        while (end > start && IsJsonWhitespace(json[end - 1]))
            end--;
        var negative = start < end && json[start] == (byte)'-';
        var digits = json[(negative ? start + 1 : start)..end];
        if (digits.IsEmpty || digits.Length > 18 || (digits[0] == (byte)'0' && digits.Length > 1))
            return false;
        // A plain loop: an item's digits are few, and a vectorised search is compiled at run time in every fresh child.
        long magnitude = 0;
        foreach (var digit in digits)
        {
            var d = digit - (byte)'0';
            if ((uint)d > 9)
                return false;
            magnitude = magnitude * 10 + d;
        }
        value = negative ? -magnitude : magnitude;
        return true;
    }

    /// <summary>What the direct path for strings searches for, made on its first use.</summary>
    private static class PlainStrings
    {
        /// <summary>
        /// The characters the writer's encoder leaves as they are and that take one byte each: printable ASCII but the
        /// quote and the backslash.
        /// </summary>
        public static readonly SearchValues<char> Ascii = SearchValues.Create(" !#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~");

        /// <summary>The bytes that end the plain run of a JSON string: the quote, the backslash and the control characters.</summary>
        public static readonly SearchValues<byte> Specials = SearchValues.Create(
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, (byte)'"', (byte)'\\']
        );

        /// <summary>UTF-8 that throws on invalid bytes instead of replacing them, as the JSON reader refuses them.</summary>
        public static readonly System.Text.UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    }

    /// <summary>
    /// A string of printable ASCII without a quote or a backslash, the common case of text items, written between quotes
    /// in one narrowing pass: the bytes the writer would produce, without its escaping scan and set-up. False (nothing
    /// written) for any other string, which the writer then escapes.
    /// </summary>
    private static bool TryWritePlainString(string text, IBufferWriter<byte> output)
    {
        if (text.AsSpan().ContainsAnyExcept(PlainStrings.Ascii))
            return false;
        var span = output.GetSpan(text.Length + 2);
        span[0] = (byte)'"';
        if (System.Text.Ascii.FromUtf16(text, span[1..], out var written) != OperationStatus.Done)
            return false;
        span[written + 1] = (byte)'"';
        output.Advance(written + 2);
        return true;
    }

    /// <summary>
    /// A JSON string with no escape in it, read without a reader: a quote, then UTF-8 without a quote, a backslash or a
    /// control character, then a quote, and nothing around them (the form the writer produces for such text). The text
    /// is what the reader would give. Anything else, and invalid UTF-8, gives false and goes the reader's way, which
    /// reads or refuses it as before. A value split across segments is copied into one pooled buffer first.
    /// </summary>
    private static bool TryReadPlainString(in ReadOnlySequence<byte> input, out string text)
    {
        if (input.IsSingleSegment)
            return TryReadPlainString(input.FirstSpan, out text);
        text = "";
        if (input.Length > int.MaxValue)
            return false;
        var length = (int)input.Length;
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            input.CopyTo(rented);
            return TryReadPlainString(rented.AsSpan(0, length), out text);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static bool TryReadPlainString(ReadOnlySpan<byte> json, out string text)
    {
        text = "";
        if (json.Length < 2 || json[0] != (byte)'"' || json[^1] != (byte)'"')
            return false;
        var inner = json[1..^1];
        if (inner.ContainsAny(PlainStrings.Specials))
            return false;
        try
        {
            text = PlainStrings.StrictUtf8.GetString(inner);
            return true;
        }
        catch (System.Text.DecoderFallbackException)
        {
            return false;
        }
    }

    private static bool IsJsonWhitespace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r';

    /// <summary>
    /// Reads a primitive the way the serializer's converter would when the input is well formed: one value of the
    /// expected kind and nothing after it but whitespace. Anything else gives false, and the serializer reads it (and
    /// throws its own exception).
    /// </summary>
    private static bool TryReadPrimitive<T>(in ReadOnlySequence<byte> input, out T value)
    {
        value = default!;
        var reader = input.IsSingleSegment ? new Utf8JsonReader(input.FirstSpan) : new Utf8JsonReader(input);
        try
        {
            if (!reader.Read())
                return false;
            // (T)(object)x with T known is no box once compiled.
            if (typeof(T) == typeof(int) && reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var int32))
                value = (T)(object)int32;
            else if (typeof(T) == typeof(long) && reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var int64))
                value = (T)(object)int64;
            else if (typeof(T) == typeof(double) && reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var number))
                value = (T)(object)number;
            else if (typeof(T) == typeof(bool) && reader.TokenType is JsonTokenType.True or JsonTokenType.False)
                value = (T)(object)reader.GetBoolean();
            else if (typeof(T) == typeof(string) && reader.TokenType is JsonTokenType.String or JsonTokenType.Null)
                value = (T)(object)reader.GetString()!;
            else
                return false;
            if (reader.Read())
            {
                value = default!;
                return false;
            }
            return true;
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a string of invalid UTF-8 (GetString); the serializer reports it as JsonException.
            return false;
        }
    }

    /// <summary>The serializer's options, set up on first use only: a body of primitives never pays for them.</summary>
    private static class Serializer
    {
        public static readonly JsonSerializerOptions Options = CreateOptions();

        private static JsonSerializerOptions CreateOptions()
        {
            // Text goes on the wire as UTF-8, not \uXXXX escapes: the payload is read by the other side's decoder, never
            // embedded in HTML, so the default encoder's HTML-safe escaping would only make non-ASCII text slower and bigger.
            var options = new JsonSerializerOptions(JsonSerializerDefaults.General)
            {
                IncludeFields = true,
                TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
                Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            };
            options.MakeReadOnly();
            return options;
        }
    }
}
