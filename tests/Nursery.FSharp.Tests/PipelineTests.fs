module Nursery.FSharp.Tests.PipelineTests

open System
open System.Collections.Concurrent
open Xunit
open Nursery
open Nursery.FSharp
open Nursery.Tests.Support

let bound = TimeSpan.FromSeconds 60.0

/// Every pid is gone (not alive) within five seconds: a bounded poll of /proc.
let allGoneAsync (pids: int seq) = Processes.AllGoneWithinAsync(pids, TimeSpan.FromSeconds 5.0)

/// The same, for the tests that do not run in a task.
let allGone (pids: int seq) = (allGoneAsync pids).GetAwaiter().GetResult()

let describe failure =
    match failure with
    | Faulted f -> sprintf "faulted: %s" f.Error.Message
    | StartFailed s -> sprintf "start failed: %s" s.Reason
    | Crashed c -> sprintf "crashed with %d" c.ExitCode
    | OutOfMemory o -> sprintf "out of memory at %d" o.LimitBytes
    | TimedOut t -> sprintf "timed out after %O" t.LimitValue
    | ProtocolViolation p -> sprintf "protocol violation: %s" p.Detail
    | Cancelled c -> sprintf "cancelled: %s" c.Reason

[<Fact>]
let ``A pipeline of F# functions runs in child processes and failures match exhaustively`` () =
    task {
        let seen = ConcurrentBag<int>()
        use scope = Pipeline.scope (NurseryOptions(DefaultPolicy = Policy.Skip))
        let first = scope |> Pipeline.stage (StageOptions(Workers = 2)) Bodies.failOn13
        let second = scope |> Pipeline.stage (StageOptions(Workers = 1)) (fun x -> x * 10)
        let sink = scope |> Pipeline.sink seen.Add
        first |> Pipeline.into second
        second |> Pipeline.into sink

        let! result = (scope |> Pipeline.run [ 10..15 ] first).WaitAsync bound

        Assert.True(result.Completed, string result)
        Assert.Equal<int list>([ 110; 120; 130; 150; 160 ], seen |> Seq.sort |> List.ofSeq)
        let failure = Pipeline.firstFailure result |> Option.get
        Assert.Equal("faulted: 13 is unlucky in F# too", describe failure)
    }

[<Fact>]
let ``Either converts to Result and back`` () =
    let ok: LanguageExt.Either<ChildFailure, int> = LanguageExt.Prelude.Right<ChildFailure, int>(5)
    Assert.Equal(Ok 5, Result.ofEither ok)
    Assert.True((Result.toEither (Ok 5)).IsRight)

[<Fact>]
let ``A closure that captures a value is refused naming it`` () =
    use scope = Pipeline.defaultScope ()
    let offset = DateTime.Now.Second

    let error = Assert.Throws<ArgumentException>(fun () -> scope |> Pipeline.stage (StageOptions(Workers = 1)) (fun x -> x + offset) |> ignore)

    Assert.Contains("'offset'", error.Message)

[<Fact>]
let ``A child that exits is Crashed and matched as such`` () =
    task {
        use scope = Pipeline.scope (NurseryOptions(DefaultPolicy = Policy.Skip))
        let stage = scope |> Pipeline.stage (StageOptions(Workers = 1)) Bodies.exitOn7

        let! result = (scope |> Pipeline.run [ 6; 7; 8 ] stage).WaitAsync bound

        Assert.True((2L = result.Succeeded), string result)
        Assert.Equal("crashed with 3", Pipeline.failures result |> List.exactlyOne |> describe)
    }

[<FsCheck.Xunit.Property(MaxTest = 200)>]
let ``Result and Either round-trip`` (value: int) (fails: bool) =
    let original: Result<int, ChildFailure> =
        if fails then Error(ChildFailure.StartFailed("no")) else Ok value
    Result.ofEither (Result.toEither original) = original

[<FsCheck.Xunit.Property(MaxTest = 5)>]
let ``Under skip the successes are exactly the items that do not fail`` (items: int list) =
    let items = items |> List.truncate 20
    let seen = ConcurrentBag<int>()
    use scope = Pipeline.scope (NurseryOptions(DefaultPolicy = Policy.Skip))
    let stage = scope |> Pipeline.stage (StageOptions(Workers = 2)) Bodies.failOn13
    stage |> Pipeline.into (scope |> Pipeline.sink seen.Add)

    let result = (scope |> Pipeline.run items stage).WaitAsync(bound).GetAwaiter().GetResult()

    let expected = items |> List.filter ((<>) 13) |> List.map ((+) 1) |> List.sort
    result.IsBalanced && (seen |> Seq.sort |> List.ofSeq) = expected && allGone stage.ProcessIds

[<Fact>]
let ``An F# initializer runs in each child with its state before the first item`` () =
    task {
        let seen = ConcurrentBag<int>()
        use scope = Pipeline.defaultScope ()
        let body = Pipeline.body Bodies.multiply |> Pipeline.withInitializer Bodies.setFactor 7
        let stage = scope |> Pipeline.stageOf (StageOptions(Workers = 2)) body
        stage |> Pipeline.into (scope |> Pipeline.sinkTask (fun x -> task { seen.Add x }))

        let! result = (scope |> Pipeline.run [ 1..6 ] stage).WaitAsync bound

        Assert.True(result.Completed, string result)
        Assert.Equal<int list>([ 7; 14; 21; 28; 35; 42 ], seen |> Seq.sort |> List.ofSeq)
        let! gone = allGoneAsync stage.ProcessIds
        Assert.True(gone, "a child outlived the run")
    }

[<Fact>]
let ``An initializer that captures a value is refused naming it`` () =
    let offset = DateTime.Now.Second + 1
    let error =
        Assert.Throws<ArgumentException>(fun () ->
            Pipeline.body Bodies.multiply |> Pipeline.withInitializer (fun (x: int) -> Bodies.setFactor (x + offset)) 3 |> ignore)
    Assert.Contains("'offset'", error.Message)

[<Fact>]
let ``runSynchronously returns the result, and a run past its timeout is aborted with AbortCause Deadline`` () =
    use scope = Pipeline.defaultScope ()
    let stage = scope |> Pipeline.stage (StageOptions(Workers = 1)) Bodies.double
    let result = scope |> Pipeline.runSynchronously (TimeSpan.FromSeconds 60.0) [ 1; 2; 3 ] stage
    Assert.True(result.Completed, string result)
    Assert.Equal(3L, result.Succeeded)
    Assert.True(allGone stage.ProcessIds, "a child outlived the run")

    use slow = Pipeline.defaultScope ()
    let sleeper = slow |> Pipeline.stage (StageOptions(Workers = 1)) Bodies.sleepForever
    let aborted = slow |> Pipeline.runSynchronously (TimeSpan.FromSeconds 1.0) [ 1 ] sleeper
    Assert.True(aborted.Aborted, string aborted)
    Assert.Equal(AbortCause.Deadline, aborted.AbortCause)
    Assert.True(aborted.IsBalanced, string aborted)
    Assert.True(allGone sleeper.ProcessIds, "a child outlived the run")

/// Pipeline's functions that make bodies call Nursery.Core's public API only, so an optimised build of the caller (this
/// assembly in Release) may inline them into its own code: none is kept from inlining, and what they make runs.
[<Fact>]
let ``Bodies from F# functions work when an optimised caller inlines the functions that make them`` () =
    task {
        let pipeline = Reflection.Assembly.Load("Nursery.FSharp").GetType("Nursery.FSharp.Pipeline", true) |> nonNull
        for name in [ "body"; "withInitializer"; "stage" ] do
            let flags = (pipeline.GetMethod name |> nonNull).MethodImplementationFlags
            Assert.False(flags.HasFlag Reflection.MethodImplAttributes.NoInlining, $"Pipeline.{name} is kept from inlining")
        let seen = ConcurrentBag<int>()
        use scope = Pipeline.defaultScope ()
        let scaled = scope |> Pipeline.stageOf (StageOptions(Workers = 1)) (Pipeline.body Bodies.multiply |> Pipeline.withInitializer Bodies.setFactor 3)
        let doubled = scope |> Pipeline.stage (StageOptions(Workers = 1)) Bodies.double
        scaled |> Pipeline.into doubled
        doubled |> Pipeline.into (scope |> Pipeline.sink seen.Add)

        let! result = (scope |> Pipeline.run [ 1; 2; 3 ] scaled).WaitAsync bound

        Assert.True(result.Completed, string result)
        Assert.Equal<int list>([ 6; 12; 18 ], seen |> Seq.sort |> List.ofSeq)
        Assert.True(allGone (Seq.append scaled.ProcessIds doubled.ProcessIds), "a child outlived the run")
    }

[<Fact>]
let ``A record's outcome matches as Succeeded or Failed with the failure's kind`` () =
    let kindOf outcome =
        match outcome with
        | Succeeded -> None
        | Failed kind -> Some kind
    Assert.Equal(None, kindOf ItemOutcome.Succeeded)
    Assert.Equal(Some FailureKind.Crashed, kindOf (ItemOutcome.Failed FailureKind.Crashed))
    Assert.Equal<FailureKind option list>(
        [ None
          Some FailureKind.Faulted
          Some FailureKind.StartFailed
          Some FailureKind.Crashed
          Some FailureKind.OutOfMemory
          Some FailureKind.TimedOut
          Some FailureKind.ProtocolViolation
          Some FailureKind.Cancelled ],
        ItemOutcome.All |> Seq.map kindOf |> List.ofSeq)
