module Nursery.FSharp.Tests.Readme

open System
open System.IO
open Xunit
open Nursery
open Nursery.FSharp

/// The README's F# example, compiled: the lines between the markers must be the README's ```fsharp block.
let example (lines: string list) =
    task {
        // README BEGIN
        use scope = Pipeline.scope (NurseryOptions(DefaultPolicy = Policy.Skip))
        let parse = scope |> Pipeline.stage (StageOptions(Workers = 2)) Work.parse
        parse |> Pipeline.into (scope |> Pipeline.sink (printfn "%A"))
        let! result = scope |> Pipeline.run lines parse
        for failure in Pipeline.failures result do
            match failure with                      // exhaustive over the seven cases
            | Faulted f -> printfn "bug: %s" f.Error.StackTrace
            | OutOfMemory o -> printfn "needs more than %d bytes" o.LimitBytes
            | Crashed _ | TimedOut _ | StartFailed _ | ProtocolViolation _ | Cancelled _ -> printfn "%O" failure
        // README END
        return result
    }

let private root () = Nursery.Tests.Support.Repository.Root

[<Fact>]
let ``The readme shows the compiled F# example exactly`` () =
    let source = File.ReadAllLines(Path.Combine(root (), "tests", "Nursery.FSharp.Tests", "Readme.fs"))
    let first = Array.findIndex (fun (line: string) -> line.Trim() = "// README BEGIN") source
    let last = Array.findIndex (fun (line: string) -> line.Trim() = "// README END") source
    let compiled = source[first + 1 .. last - 1] |> Array.map (fun line -> if line.Length >= 8 then line.Substring 8 else line.Trim())
    let readme = File.ReadAllText(Path.Combine(root (), "README.md"))
    let block = Text.RegularExpressions.Regex.Match(readme, "```fsharp\n(.*?)```", Text.RegularExpressions.RegexOptions.Singleline).Groups[1].Value
    Assert.Equal(String.Join("\n", compiled).Trim(), block.Trim().ReplaceLineEndings("\n"))

[<Fact>]
let ``The readme F# example runs and reports the bad line`` () =
    task {
        let! result = (example [ "1"; "2"; "x" ]).WaitAsync(TimeSpan.FromSeconds 60.0)
        Assert.Equal(2L, result.Succeeded)
        Assert.Equal(1L, result.CountsByKind[FailureKind.Faulted])
    }
