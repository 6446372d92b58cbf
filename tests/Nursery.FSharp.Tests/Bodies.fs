namespace Nursery.FSharp.Tests

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

/// The README's F# example's body.
module Work =
    let parse (line: string) = int line
