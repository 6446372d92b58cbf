// An F# script: `dotnet fsi work.fsx` (after `dotnet build notebooks/NotebookBodies`, whose output folder holds
// Nursery, Nursery.Interactive and the child host). F# Interactive compiles a script into an assembly that exists only
// in its memory, which no child can load; so the bodies are written as source and compiled for real, cached by hash.
#r "../../notebooks/NotebookBodies/bin/Debug/net10.0/Nursery.Core.dll"
#r "../../notebooks/NotebookBodies/bin/Debug/net10.0/Nursery.Dataflow.dll"
#r "../../notebooks/NotebookBodies/bin/Debug/net10.0/Nursery.FSharp.dll"
#r "../../notebooks/NotebookBodies/bin/Debug/net10.0/Nursery.Interactive.dll"
#r "../../notebooks/NotebookBodies/bin/Debug/net10.0/LanguageExt.Core.dll"

open System
open System.IO
open Nursery
open Nursery.FSharp

let bodies =
    Compile.FSharp
        """
module Work

type Reading =
    | Celsius of float
    | Fahrenheit of float

let toCelsius reading =
    match reading with
    | Celsius c -> c
    | Fahrenheit f -> (f - 32.0) * 5.0 / 9.0

let parse (line: string) =
    match line.Split ' ' with
    | [| value; "C" |] -> toCelsius (Celsius(float value))
    | [| value; "F" |] -> toCelsius (Fahrenheit(float value))
    | _ -> failwithf "not a reading: '%s'" line
"""

let scope = Pipeline.scope (NurseryOptions(DefaultPolicy = Policy.Skip))
let parse = scope |> Pipeline.stageOf (StageOptions(Name = "parse", Workers = 2)) (bodies.Body<string, float> "Work.parse")
let celsius = ResizeArray<float>()
parse |> Pipeline.into (scope |> Pipeline.sink celsius.Add)

let result = (scope |> Pipeline.run [ "100 C"; "212 F"; "warm"; "32 F" ] parse).WaitAsync(TimeSpan.FromMinutes 2.0).GetAwaiter().GetResult()
printfn "%O" result
printfn "celsius: %s" (String.Join(", ", Seq.sort celsius))
scope.Dispose()

let children = List.ofSeq parse.ProcessIds
printfn "children: %s — all gone: %b" (String.Join(", ", children)) (children |> List.forall (fun pid -> not (Directory.Exists $"/proc/{pid}")))
exit (if result.Failed = 1 && celsius.Count = 3 then 0 else 1)
