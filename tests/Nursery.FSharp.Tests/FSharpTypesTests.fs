module Nursery.FSharp.Tests.FSharpTypesTests

open System
open System.Collections.Concurrent
open Xunit
open Nursery
open Nursery.FSharp
open Nursery.FSharp.Tests.Shapes
open Nursery.Tests.Support

let bound = TimeSpan.FromSeconds 60.0

let drawings =
    [ { Name = "ring"; Shape = Circle 1.5; Note = Some "blue"; Layers = [ Empty; Rectangle(1.0, 2.0) ] }
      { Name = "box"; Shape = Rectangle(2.0, 3.0); Note = None; Layers = [] }
      { Name = "nothing"; Shape = Empty; Note = None; Layers = [ Circle 0.5 ] } ]

[<Fact>]
let ``A union, a record holding one and options cross to a child and back as they were`` () =
    task {
        let seen = ConcurrentBag<Drawing>()
        use scope = Pipeline.defaultScope ()
        let stage = scope |> Pipeline.stage (StageOptions(Workers = 1)) Shapes.grow
        stage |> Pipeline.into (scope |> Pipeline.sink seen.Add)

        let! result = (scope |> Pipeline.run drawings stage).WaitAsync bound

        Assert.True(result.Completed && result.Failed = 0L, string result)
        let expected = drawings |> List.map Shapes.grow |> List.sortBy _.Name
        Assert.Equal<Drawing list>(expected, seen |> Seq.sortBy _.Name |> List.ofSeq)
        let! gone = Processes.AllGoneWithinAsync(stage.ProcessIds, TimeSpan.FromSeconds 5.0)
        Assert.True(gone, "a child outlived the run")
    }

[<Fact>]
let ``A union as the item and a value option as the result cross, ValueNone included`` () =
    task {
        let areas = ConcurrentBag<float>()
        let halves = ConcurrentBag<int voption>()
        use scope = Pipeline.defaultScope ()
        let area = scope |> Pipeline.stage (StageOptions(Workers = 1)) Shapes.area
        area |> Pipeline.into (scope |> Pipeline.sink areas.Add)

        let! shapes = (scope |> Pipeline.run [ Rectangle(2.0, 3.0); Empty ] area).WaitAsync bound
        use numbersScope = Pipeline.defaultScope ()
        let half = numbersScope |> Pipeline.stage (StageOptions(Workers = 1)) Shapes.half
        half |> Pipeline.into (numbersScope |> Pipeline.sink halves.Add)
        let! numbers = (numbersScope |> Pipeline.run [ 1; 2; 3; 4 ] half).WaitAsync bound

        Assert.True(shapes.Completed && shapes.Failed = 0L, string shapes)
        Assert.Equal<float list>([ 0.0; 6.0 ], areas |> Seq.sort |> List.ofSeq)
        Assert.True(numbers.Completed && numbers.Failed = 0L, string numbers)
        Assert.Equal<int voption list>([ ValueNone; ValueNone; ValueSome 1; ValueSome 2 ], halves |> Seq.sort |> List.ofSeq)
        let! gone = Processes.AllGoneWithinAsync(Seq.append area.ProcessIds half.ProcessIds, TimeSpan.FromSeconds 5.0)
        Assert.True(gone, "a child outlived the run")
    }

[<Fact>]
let ``System.Text.Json's codec refuses an F# union when the body is built, naming the codec that handles it`` () =
    let error = Assert.Throws<ArgumentException>(fun () -> Body.From(Func<Shape, float>(Shapes.area)) |> ignore)

    Assert.Contains("Nursery.FSharp.Tests.Shapes+Shape is an F# discriminated union", error.Message)
    Assert.Contains("Use Nursery.FSharp's codec", error.Message)
    Assert.Contains("FSharpJsonCodec", error.Message)

[<Fact>]
let ``A record holding a union is refused by System.Text.Json's codec with the member that holds it`` () =
    let error = Assert.Throws<ArgumentException>(fun () -> Body.From(Func<Drawing, Drawing>(Shapes.grow), JsonCodec()) |> ignore)

    Assert.Contains("Drawing.Shape", error.Message)
    Assert.Contains("Use Nursery.FSharp's codec", error.Message)

[<Fact>]
let ``A body from an F# function over a union gets Nursery.FSharp's codec, one over plain types the default`` () =
    Assert.IsType<FSharpJsonCodec>((Pipeline.body Shapes.grow).Codec) |> ignore
    Assert.IsType<FSharpJsonCodec>((Pipeline.body Shapes.area).Codec) |> ignore
    Assert.IsType<JsonCodec>((Pipeline.body Bodies.double).Codec) |> ignore
    Assert.IsType<JsonCodec>((Pipeline.body Bodies.parse).Codec) |> ignore
    Assert.IsType<FSharpJsonCodec>(Body.From(Func<Drawing, Drawing>(Shapes.grow), FSharpJsonCodec()).Codec) |> ignore

[<Fact>]
let ``An option as the item itself is refused when the stage is built, pointing at value options`` () =
    use scope = Pipeline.defaultScope ()

    let error = Assert.Throws<ArgumentException>(fun () -> scope |> Pipeline.stage (StageOptions(Workers = 1)) Option.isSome<int> |> ignore)

    Assert.Contains("F# option's None", error.Message)
    Assert.Contains("voption", error.Message)

[<Fact>]
let ``An F# stage is named after its function, and its records and failures carry the name`` () =
    task {
        use scope = Pipeline.scope (NurseryOptions(DefaultPolicy = Policy.Skip))
        let stage = scope |> Pipeline.stage (StageOptions(Workers = 1)) Bodies.failOn13
        stage |> Pipeline.into (scope |> Pipeline.sink ignore)

        let! result = (scope |> Pipeline.run [ 12; 13 ] stage).WaitAsync bound

        Assert.Equal("failOn13", stage.Name)
        Assert.Equal("Nursery.FSharp.Tests.Bodies.failOn13", (Pipeline.body Bodies.failOn13).Name)
        Assert.Equal<string list>([ "failOn13"; "sink" ], result.Records |> Seq.map _.Stage |> Seq.distinct |> Seq.sort |> List.ofSeq)
        Assert.Equal("failOn13", (Pipeline.failures result |> List.exactlyOne).Stage)
        let! gone = Processes.AllGoneWithinAsync(stage.ProcessIds, TimeSpan.FromSeconds 5.0)
        Assert.True(gone, "a child outlived the run")
    }

[<Fact>]
let ``A lambda is named after the binding it is made in`` () =
    let tripled = Pipeline.body (fun (x: int) -> x * 3)

    Assert.DoesNotContain("Invoke", tripled.Name)
    Assert.EndsWith(".tripled", tripled.Name)
