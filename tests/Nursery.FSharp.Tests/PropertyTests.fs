module Nursery.FSharp.Tests.PropertyTests

open System
open Xunit
open FsCheck
open FsCheck.FSharp
open Nursery
open Nursery.FSharp
open Nursery.Testing
open Nursery.FSharp.Tests.PipelineTests

let naturals = ArbMap.defaults |> ArbMap.arbitrary<int> |> Arb.filter (fun x -> x >= 0)

[<Fact>]
let ``An F# property isolated with Prop.forAll and Case shrinks a crash to the smallest input that crashes`` () =
    task {
        let! run =
            Isolated.RunAsync<int, int, int>(
                Pipeline.body Bodies.exitFrom7,
                (fun isolation -> Prop.forAll naturals (fun x -> isolation.Case(x, fun input result -> result = input))),
                IsolationOptions.Default.WithCaseTimeout(TimeSpan.FromSeconds 5.0)
            )

        Assert.True(run.Falsified, run.Report)
        Assert.Equal(7, run.Counterexample)
        let crash = Assert.IsType<ChildFailure.Crashed>(run.Failure)
        Assert.Equal(3, crash.ExitCode)
        let! gone = allGoneAsync run.ProcessIds
        Assert.True(gone, "a child of the run is still there")
    }
