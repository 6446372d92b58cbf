namespace Nursery.FSharp

open System
open LanguageExt
open Nursery

/// Conversions between LanguageExt's Either<ChildFailure,'T> and F#'s Result<'T, ChildFailure>.
module Result =

    /// A Result from an Either: Right is Ok, Left is Error.
    let ofEither (value: Either<ChildFailure, 'T>) : Result<'T, ChildFailure> =
        value.Match(Func<'T, Result<'T, ChildFailure>>(Ok), Func<ChildFailure, Result<'T, ChildFailure>>(Error))

    /// An Either from a Result.
    let toEither (value: Result<'T, ChildFailure>) : Either<ChildFailure, 'T> =
        match value with
        | Ok right -> Prelude.Right<ChildFailure, 'T>(right)
        | Error left -> Prelude.Left<ChildFailure, 'T>(left)

    /// An item's value as a Result.
    let ofItem (item: Item<'T>) : Result<'T, ChildFailure> = ofEither item.Value
