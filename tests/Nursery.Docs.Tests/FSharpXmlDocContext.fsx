// The names that the examples in the XML docs of src/FSharp use. The doc tests compile each example here, in place of
// the line {{example}}, after `open System`, `open Nursery` and `open Nursery.FSharp`.
module Orders =
    let parse (line: string) = line.Length

module Work =
    let score (x: int) = x * 2
    let loadModel (path: string) = ignore path

let rows = ResizeArray<int>()
let lines = [ "a"; "bb" ]

{{example}}
