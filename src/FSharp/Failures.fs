namespace Nursery.FSharp

open Nursery

/// Pattern matching over the seven ChildFailure cases and an item's outcome; the compiler checks that a match handles them all.
[<AutoOpen>]
module Failures =

    /// The seven cases of a ChildFailure, for exhaustive `match`:
    /// `match failure with Faulted f -> … | StartFailed s -> … | Crashed c -> … | OutOfMemory o -> … | TimedOut t -> … | ProtocolViolation p -> … | Cancelled c -> …`
    let (|Faulted|StartFailed|Crashed|OutOfMemory|TimedOut|ProtocolViolation|Cancelled|) (failure: ChildFailure) =
        failure.Match(
            (fun f -> Faulted f),
            (fun s -> StartFailed s),
            (fun c -> Crashed c),
            (fun o -> OutOfMemory o),
            (fun t -> TimedOut t),
            (fun p -> ProtocolViolation p),
            (fun c -> Cancelled c)
        )

    /// How an attempt or an item ended (an ItemRecord's Outcome), for exhaustive `match`:
    /// `match record.Outcome with Succeeded -> … | Failed kind -> …`, where `kind` is the FailureKind.
    let (|Succeeded|Failed|) (outcome: ItemOutcome) =
        if outcome.IsSuccess then Succeeded else Failed outcome.Kind.Value

    /// Options of the C# API as F# options.
    module Option =
        /// An F# option from a LanguageExt Option.
        let ofLanguageExt (value: LanguageExt.Option<'T>) : 'T option = Seq.tryHead (value.ToSeq())

        /// A LanguageExt Option from an F# option.
        let toLanguageExt (value: 'T option) : LanguageExt.Option<'T> =
            match value with
            | Some v -> LanguageExt.Option<'T>.Some v
            | None -> LanguageExt.Option<'T>.None
