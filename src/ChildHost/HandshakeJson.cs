using System.Buffers;
using System.Text.Json;

using Nursery.Protocol;

namespace Nursery.ChildHost;

/// <summary>
/// The child host's side of the control frames (Hello and error reports out, Init in) without the JSON serializer and
/// without <see cref="Utf8JsonReader"/>: the JSON is what the parent's <c>ProtocolJson</c> (the serializer) writes and
/// reads, but the serializer's first use costs a fresh process tens of milliseconds of metadata set-up, even with
/// the generated context, and the reader's first string more than the whole hand-written read: every child would pay that on its way to Ready.
/// </summary>
internal static class HandshakeJson
{
    /// <summary>
    /// The Hello message as JSON, as the parent's <c>ProtocolJson.Encode</c> would write it (same property names; strings
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
        return Ascii.NarrowOrEncode(json.ToString());
    }

    /// <summary>
    /// An item's error report as JSON, as the parent's <c>ProtocolJson.Encode</c> would write it (same property names;
    /// strings escaped only where JSON requires it). By hand: the serializer's first use costs a fresh child tens
    /// of milliseconds of CPU, paid by its warm-up while the first items run, or by its first failure.
    /// </summary>
    public static byte[] EncodeRemoteError(RemoteError error) => System.Text.Encoding.UTF8.GetBytes(new System.Text.StringBuilder(256).AppendRemoteError(error).ToString());

    /// <summary>An error not tied to an item (the body could not be loaded, say) as JSON, as the parent's <c>ProtocolJson.Encode</c> would write it.</summary>
    public static byte[] EncodeError(ErrorMessage message) =>
        System.Text.Encoding.UTF8.GetBytes(new System.Text.StringBuilder(256).Append("{\"Phase\":").AppendJsonString(message.Phase).Append(",\"Error\":").AppendRemoteError(message.Error).Append('}').ToString());

    private static System.Text.StringBuilder AppendRemoteError(this System.Text.StringBuilder json, RemoteError error)
    {
        json.Append("{\"Type\":").AppendJsonString(error.Type)
            .Append(",\"Message\":").AppendJsonString(error.Message)
            .Append(",\"StackTrace\":").AppendJsonString(error.StackTrace)
            .Append(",\"Inner\":[");
        for (var i = 0; i < error.Inner.Count; i++)
        {
            if (i > 0)
                json.Append(',');
            json.AppendRemoteError(error.Inner[i]);
        }
        return json.Append("]}");
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
    /// Reads an Init message as the parent's <c>ProtocolJson.TryDecode</c> would: property names match exactly, unknown
    /// properties are skipped, missing optional ones keep their defaults. Malformed input gives false and a reason.
    /// Read byte by byte, not with <see cref="Utf8JsonReader"/>: its first string costs a fresh process more CPU than the
    /// whole hand-written read, on every child's way to Ready.
    /// </summary>
    public static bool TryDecodeInit(in ReadOnlySequence<byte> payload, out InitMessage init, out string error)
    {
        init = null!;
        var json = new Scanner(payload.IsSingleSegment ? payload.FirstSpan : (ReadOnlySpan<byte>)payload.ToArray());
        try
        {
            json.SkipWhitespace();
            if (json.TryLiteral("null"u8))
            {
                error = "an empty InitMessage";
                return false;
            }
            if (json.AtEnd || json.Peek() != (byte)'{')
            {
                error = "an unreadable InitMessage: not a JSON object";
                return false;
            }
            MethodSpec? body = null;
            MethodSpec? initializer = null;
            string? stateJson = null;
            string? codecType = null;
            string? progressPath = null;
            var heartbeat = 0;
            var maxResultBytes = 0;
            json.StartObject();
            var first = true;
            while (json.NextProperty(ref first, out var name))
            {
                switch (name)
                {
                    case nameof(InitMessage.Body):
                        body = ReadMethodSpec(ref json);
                        break;
                    case nameof(InitMessage.Initializer):
                        initializer = ReadMethodSpec(ref json);
                        break;
                    case nameof(InitMessage.StateJson):
                        stateJson = json.ReadStringOrNull();
                        break;
                    case nameof(InitMessage.HeartbeatMilliseconds):
                        heartbeat = json.ReadInt32();
                        break;
                    case nameof(InitMessage.CodecType):
                        codecType = json.ReadStringOrNull();
                        break;
                    case nameof(InitMessage.ProgressPath):
                        progressPath = json.ReadStringOrNull();
                        break;
                    case nameof(InitMessage.MaxResultBytes):
                        maxResultBytes = json.ReadInt32();
                        break;
                    default:
                        json.SkipValue(0);
                        break;
                }
            }
            if (body is null || codecType is null)
            {
                error = $"an unreadable InitMessage: {(body is null ? nameof(InitMessage.Body) : nameof(InitMessage.CodecType))} is missing";
                return false;
            }
            init = new InitMessage(body, initializer, stateJson, heartbeat, codecType, progressPath, maxResultBytes);
            error = "";
            return true;
        }
        catch (FormatException exception)
        {
            error = $"an unreadable InitMessage: {exception.Message}";
            return false;
        }
    }

    private static MethodSpec? ReadMethodSpec(ref Scanner json)
    {
        if (json.TryLiteral("null"u8))
            return null;
        if (json.Peek() != (byte)'{')
            throw new FormatException("a MethodSpec is not a JSON object");
        string? assemblyPath = null;
        string? typeName = null;
        string? methodName = null;
        var token = 0;
        var isStatic = false;
        var moduleVersionId = "";
        json.StartObject();
        var first = true;
        while (json.NextProperty(ref first, out var name))
        {
            switch (name)
            {
                case nameof(MethodSpec.AssemblyPath):
                    assemblyPath = json.ReadStringOrNull();
                    break;
                case nameof(MethodSpec.TypeName):
                    typeName = json.ReadStringOrNull();
                    break;
                case nameof(MethodSpec.MethodName):
                    methodName = json.ReadStringOrNull();
                    break;
                case nameof(MethodSpec.MetadataToken):
                    token = json.ReadInt32();
                    break;
                case nameof(MethodSpec.IsStatic):
                    isStatic = json.ReadBoolean();
                    break;
                case nameof(MethodSpec.ModuleVersionId):
                    moduleVersionId = json.ReadStringOrNull() ?? "";
                    break;
                default:
                    json.SkipValue(0);
                    break;
            }
        }
        return new MethodSpec(assemblyPath!, typeName!, methodName!, token, isStatic, moduleVersionId);
    }

    /// <summary>
    /// A strict reader of the JSON the parent's serializer writes (RFC 8259: no comments, no trailing commas, strings
    /// in valid UTF-8 with the standard escapes). Anything else throws <see cref="FormatException"/> with a reason.
    /// </summary>
    private ref struct Scanner(ReadOnlySpan<byte> json)
    {
        private const int MaxDepth = 64;
        private static readonly System.Text.UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        private readonly ReadOnlySpan<byte> _json = json;
        private int _at;

        public readonly bool AtEnd => _at >= _json.Length;

        public readonly byte Peek() => _at < _json.Length ? _json[_at] : throw new FormatException("the JSON ends early");

        public void SkipWhitespace()
        {
            while (_at < _json.Length && _json[_at] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r')
                _at++;
        }

        /// <summary>Consumes <paramref name="literal"/> (and the whitespace after it) if it comes next.</summary>
        public bool TryLiteral(ReadOnlySpan<byte> literal)
        {
            if (!_json[_at..].StartsWith(literal))
                return false;
            _at += literal.Length;
            SkipWhitespace();
            return true;
        }

        public void StartObject() => Expect((byte)'{');

        /// <summary>Moves to the next property's value and gives its name; false at the end of the object.</summary>
        public bool NextProperty(ref bool first, out string name)
        {
            name = "";
            if (Peek() == (byte)'}')
            {
                _at++;
                SkipWhitespace();
                return false;
            }
            if (!first)
                Expect((byte)',');
            first = false;
            name = ReadString();
            Expect((byte)':');
            return true;
        }

        public string? ReadStringOrNull() => TryLiteral("null"u8) ? null : ReadString();

        public string ReadString()
        {
            if (Peek() != (byte)'"')
                throw new FormatException($"a string was expected at byte {_at}");
            _at++;
            System.Text.StringBuilder? text = null;
            while (true)
            {
                var run = _at;
                while (_at < _json.Length && _json[_at] is not (byte)'"' and not (byte)'\\' and >= 0x20)
                    _at++;
                var raw = Decode(_json[run.._at]);
                var end = Peek();
                if (end < 0x20)
                    throw new FormatException($"a control character inside a string at byte {_at}");
                if (end == (byte)'"')
                {
                    _at++;
                    SkipWhitespace();
                    return text is null ? raw : text.Append(raw).ToString();
                }
                text ??= new System.Text.StringBuilder();
                text.Append(raw).Append(ReadEscape());
            }
        }

        private char ReadEscape()
        {
            _at++; // the backslash
            var kind = Peek();
            _at++;
            switch (kind)
            {
                case (byte)'"':
                    return '"';
                case (byte)'\\':
                    return '\\';
                case (byte)'/':
                    return '/';
                case (byte)'b':
                    return '\b';
                case (byte)'f':
                    return '\f';
                case (byte)'n':
                    return '\n';
                case (byte)'r':
                    return '\r';
                case (byte)'t':
                    return '\t';
                case (byte)'u':
                    if (_at + 4 > _json.Length || !ushort.TryParse(_json.Slice(_at, 4), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out var code))
                        throw new FormatException($"a bad \\u escape at byte {_at}");
                    _at += 4;
                    return (char)code;
                default:
                    throw new FormatException($"a bad escape at byte {_at - 1}");
            }
        }

        private static string Decode(ReadOnlySpan<byte> utf8)
        {
            if (Ascii.TryWiden(utf8, out var text))
                return text;
            try
            {
                return StrictUtf8.GetString(utf8);
            }
            catch (ArgumentException exception)
            {
                throw new FormatException("a string is not valid UTF-8", exception);
            }
        }

        /// <summary>A JSON number that is an integer in the range of <see cref="int"/> (as <see cref="Utf8JsonReader.GetInt32"/> accepts).</summary>
        public int ReadInt32()
        {
            var start = _at;
            SkipNumber();
            if (!int.TryParse(_json[start.._at], System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var value))
                throw new FormatException($"the number at byte {start} is not a 32-bit integer");
            SkipWhitespace();
            return value;
        }

        public bool ReadBoolean() =>
            TryLiteral("true"u8) ? true
            : TryLiteral("false"u8) ? false
            : throw new FormatException($"true or false was expected at byte {_at}");

        public void SkipValue(int depth)
        {
            if (depth > MaxDepth)
                throw new FormatException($"the JSON is nested deeper than {MaxDepth}");
            switch (Peek())
            {
                case (byte)'"':
                    _ = ReadString();
                    return;
                case (byte)'{':
                    StartObject();
                    var first = true;
                    while (NextProperty(ref first, out _))
                        SkipValue(depth + 1);
                    return;
                case (byte)'[':
                    Expect((byte)'[');
                    if (Peek() == (byte)']')
                    {
                        Expect((byte)']');
                        return;
                    }
                    while (true)
                    {
                        SkipValue(depth + 1);
                        if (Peek() == (byte)']')
                        {
                            Expect((byte)']');
                            return;
                        }
                        Expect((byte)',');
                    }
                default:
                    if (TryLiteral("true"u8) || TryLiteral("false"u8) || TryLiteral("null"u8))
                        return;
                    SkipNumber();
                    SkipWhitespace();
                    return;
            }
        }

        /// <summary>Skips -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, or throws.</summary>
        private void SkipNumber()
        {
            var start = _at;
            if (_at < _json.Length && _json[_at] == (byte)'-')
                _at++;
            if (_at < _json.Length && _json[_at] == (byte)'0')
                _at++;
            else if (!SkipDigits())
                throw new FormatException($"a value was expected at byte {start}");
            if (_at < _json.Length && _json[_at] == (byte)'.')
            {
                _at++;
                if (!SkipDigits())
                    throw new FormatException($"a bad number at byte {start}");
            }
            if (_at < _json.Length && _json[_at] is (byte)'e' or (byte)'E')
            {
                _at++;
                if (_at < _json.Length && _json[_at] is (byte)'+' or (byte)'-')
                    _at++;
                if (!SkipDigits())
                    throw new FormatException($"a bad number at byte {start}");
            }
        }

        private bool SkipDigits()
        {
            var start = _at;
            while (_at < _json.Length && char.IsAsciiDigit((char)_json[_at]))
                _at++;
            return _at > start;
        }

        private void Expect(byte character)
        {
            if (Peek() != character)
                throw new FormatException($"'{(char)character}' was expected at byte {_at}");
            _at++;
            SkipWhitespace();
        }
    }
}
