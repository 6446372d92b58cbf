namespace Nursery.FSharp

open System.Text.Encodings.Web
open System.Text.Json
open System.Text.Json.Serialization
open System.Text.Json.Serialization.Metadata
open Nursery

/// The options of FSharpJsonCodec, made once per process.
module internal FSharpJson =

    /// JsonCodec's defaults (public fields, text as UTF-8) with FSharp.SystemTextJson's converter for unions, records,
    /// options, lists, sets, maps and tuples.
    let options =
        let options =
            JsonSerializerOptions(JsonSerializerDefaults.General, IncludeFields = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping)
        options.Converters.Add(JsonFSharpConverter())
        options.TypeInfoResolver <- DefaultJsonTypeInfoResolver()
        options.MakeReadOnly()
        options

/// A JSON codec for F# types: discriminated unions, records holding them, options, lists, sets and maps cross to
/// child processes and back as they were sent (through FSharp.SystemTextJson). Nursery.FSharp's `Pipeline.stage`,
/// `Pipeline.body` and `Flow.through` use it for a function whose types hold a union (JsonCodec otherwise); from C#,
/// `Body.From(function, new FSharpJsonCodec())`. The child creates it from Nursery.FSharp.dll found beside the body's
/// assembly (or through its deps.json).
/// A type it cannot round-trip is refused when the body is built.
[<Sealed>]
type FSharpJsonCodec() =
    inherit JsonCodec(FSharpJson.options)
