namespace Nursery.FSharp.Tests

open System

/// F# bodies, compiled into this assembly so child processes can load them.
module Bodies =
    let double (x: int) = x * 2

    let failOn13 (x: int) =
        if x = 13 then invalidOp "13 is unlucky in F# too" else x + 1

    let sleepForever (x: int) : int =
        System.Threading.Thread.Sleep System.Threading.Timeout.Infinite
        x

    let exitOn7 (x: int) =
        if x = 7 then exit 3 else x

    let exitFrom7 (x: int) =
        if x >= 7 then exit 3 else x

    let mutable private factor = 1

    /// An initializer: runs once in each child before its first item.
    let setFactor (value: int) = factor <- value

    let multiply (x: int) = x * factor

    type Order = { Id: string; Quantity: int }

    let parse (line: string) =
        match line.Split ',' with
        | [| id; quantity |] -> { Id = id; Quantity = int quantity }
        | _ -> failwithf "malformed line: %s" line

/// F# types that cross to children with Nursery.FSharp's codec: a union, a record holding one, options.
module Shapes =
    type Shape =
        | Circle of radius: float
        | Rectangle of width: float * height: float
        | Empty

    type Drawing =
        { Name: string
          Shape: Shape
          Note: string option
          Layers: Shape list }

    let scale (shape: Shape) =
        match shape with
        | Circle r -> Circle(r * 2.0)
        | Rectangle(w, h) -> Rectangle(w * 2.0, h * 2.0)
        | Empty -> Empty

    /// A drawing twice the size, its note marked as seen, or given one.
    let grow (drawing: Drawing) : Drawing =
        { drawing with
            Shape = scale drawing.Shape
            Note = drawing.Note |> Option.map (fun note -> note + " (grown)") |> Option.orElse (Some "grown")
            Layers = drawing.Layers |> List.map scale }

    let area (shape: Shape) : float =
        match shape with
        | Circle r -> Math.PI * r * r
        | Rectangle(w, h) -> w * h
        | Empty -> 0.0

    /// Half of an even number; nothing for an odd one.
    let half (x: int) : int voption = if x % 2 = 0 then ValueSome(x / 2) else ValueNone

    /// The shape a line names: "circle 2", "rectangle 2 3" or "empty".
    let parse (line: string) : Shape =
        match line.Split ' ' with
        | [| "circle"; r |] -> Circle(float r)
        | [| "rectangle"; w; h |] -> Rectangle(float w, float h)
        | [| "empty" |] -> Empty
        | _ -> failwithf "not a shape: %s" line

/// The README's F# example's body.
module Work =
    let parse (line: string) = int line
