module Nursery.FSharp.Tests.FlowTests

open System
open System.Collections.Concurrent
open Xunit
open Nursery
open Nursery.FSharp
open Nursery.FSharp.Tests.Shapes
open Nursery.Tests.Support

let bound = TimeSpan.FromSeconds 60.0

/// The result of a run, whether Ok or Error.
let resultOf outcome =
    match outcome with
    | Ok result
    | Error result -> result

/// Every child that ran an attempt is gone (each stage here has one worker, which runs every item it is given).
let childrenGoneAsync (result: PipelineResult) =
    Processes.AllGoneWithinAsync(result.Records |> Seq.map _.ProcessId |> Seq.filter (fun pid -> pid > 0) |> Seq.distinct, TimeSpan.FromSeconds 5.0)

[<Fact>]
let ``A pipeline composed with through and into runs in children and returns Ok when every item succeeds`` () =
    task {
        let areas = ConcurrentBag<float>()

        let! outcome =
            [ "circle 1"; "rectangle 2 3"; "empty" ]
            |> Flow.ofSeq
            |> Flow.through (StageOptions(Workers = 1)) Shapes.parse
            |> Flow.through (StageOptions(Workers = 1)) Shapes.area
            |> Flow.into areas.Add
            |> Flow.run (NurseryOptions())
            |> _.WaitAsync(bound)

        let result = resultOf outcome
        Assert.True(Result.isOk outcome, string result)
        Assert.Equal<float list>([ 0.0; Math.PI; 6.0 ], areas |> Seq.sort |> List.ofSeq)
        Assert.Equal<string list>([ "area"; "parse"; "sink" ], result.Records |> Seq.map _.Stage |> Seq.distinct |> Seq.sort |> List.ofSeq)
        let! gone = childrenGoneAsync result
        Assert.True(gone, "a child outlived the run")
    }

[<Fact>]
let ``A composed pipeline with a failing item returns Error, its failures and outcomes matched by kind`` () =
    task {
        let! outcome =
            [ "circle 1"; "hexagon 1"; "empty" ]
            |> Flow.ofSeq
            |> Flow.through (StageOptions(Workers = 1)) Shapes.parse
            |> Flow.into ignore
            |> Flow.run (NurseryOptions(DefaultPolicy = Policy.Skip))
            |> _.WaitAsync(bound)

        match outcome with
        | Ok result -> Assert.Fail $"an item failed, yet the run is Ok: {result}"
        | Error result ->
            Assert.True(result.Completed, string result)
            Assert.Equal<FailureKind list>([ FailureKind.Faulted ], result.Failures |> Seq.map _.Kind |> List.ofSeq)
            let faulted, succeeded =
                result.Records
                |> Seq.filter (fun record -> record.Stage = "parse")
                |> List.ofSeq
                |> List.partition (fun record ->
                    match record.Outcome with
                    | Failed FailureKind.Faulted -> true
                    | Failed _
                    | Succeeded -> false)
            Assert.Equal(1, faulted.Length)
            Assert.Equal(2, succeeded.Length)
            Assert.All(succeeded, fun record -> Assert.True(record.Outcome.IsSuccess, string record))
            match result.Failures |> Seq.exactlyOne with
            | Faulted failure -> Assert.Contains("not a shape: hexagon 1", failure.Error.Message)
            | other -> Assert.Fail $"expected Faulted, got {other}"
            let! gone = childrenGoneAsync result
            Assert.True(gone, "a child outlived the run")
    }

[<Fact>]
let ``A function that cannot run in a child is refused where the flow is written, before anything runs`` () =
    let offset = DateTime.Now.Second

    let error =
        Assert.Throws<ArgumentException>(fun () ->
            [ 1; 2 ] |> Flow.ofSeq |> Flow.through (StageOptions(Workers = 1)) (fun x -> x + offset) |> ignore)

    Assert.Contains("'offset'", error.Message)

[<Fact>]
let ``A composed run past its deadline returns Error with AbortCause Deadline, every item accounted for`` () =
    task {
        let! outcome =
            [ 1; 2 ]
            |> Flow.ofSeq
            |> Flow.through (StageOptions(Workers = 1)) Bodies.sleepForever
            |> Flow.into ignore
            |> Flow.run (NurseryOptions(Deadline = TimeSpan.FromSeconds 1.0))
            |> _.WaitAsync(bound)

        let result = resultOf outcome
        Assert.True(Result.isError outcome, string result)
        Assert.Equal(AbortCause.Deadline, result.AbortCause)
        Assert.True(result.IsBalanced, string result)
        let! gone = childrenGoneAsync result
        Assert.True(gone, "a child outlived the run")
    }
