namespace Nursery.FSharp

open System
open System.Threading
open System.Threading.Tasks
open Nursery

/// Curried functions that build and run pipelines with `|>`.
///
///     let run (lines: string seq) =
///         task {
///             use scope = Pipeline.scope (NurseryOptions(DefaultPolicy = Policy.Skip))
///             let parse = scope |> Pipeline.stage (StageOptions(Workers = 2)) Orders.parse
///             let sink = scope |> Pipeline.sink (fun row -> rows.Add row)
///             parse |> Pipeline.into sink
///             let! result = scope |> Pipeline.run lines parse
///             return Pipeline.failures result
///         }
module Pipeline =

    /// A body from an F# function (see `stage`: named after the function, in FSharpJsonCodec when its types hold a union), for use with `Body`
    /// methods such as WithInitializer.
    let body (f: 'a -> 'b) : Body<'a, 'b> = Closures.body f

    /// The body with an initializer that each child runs once, with `state` (sent as JSON), before its first item,
    /// like Python's `Pool(initializer, initargs)`. Same rules as a body: a module function or a closure that captures nothing.
    ///
    ///     let b = Pipeline.body Work.score |> Pipeline.withInitializer Work.loadModel "model.bin"
    let withInitializer (initializer: 'state -> unit) (state: 'state) (body: Body<'a, 'b>) : Body<'a, 'b> =
        Closures.withInitializer initializer state body

    /// An in-process sink whose action returns a task (`fun row -> task { ... }`).
    let sinkTask (action: 'a -> Task) (scope: NurseryScope) : Sink<'a> = scope.Sink<'a>(Func<'a, Task>(action))

    /// A scope with these options (dispose it with `use`).
    let scope (options: NurseryOptions) = new NurseryScope(options)

    /// A scope with default options.
    let defaultScope () = new NurseryScope(NurseryOptions())

    /// A stage running `body` (a module function or a lambda that captures nothing, from a compiled assembly) in child
    /// processes, named after the function; its items travel in FSharpJsonCodec when their types hold an F# union. A closure that
    /// captures values, one from F# Interactive or a notebook, or a type that cannot cross, is refused here with a
    /// message that says what to do.
    let stage (options: StageOptions) (body: 'a -> 'b) (scope: NurseryScope) : Stage<'a, 'b> =
        scope.Stage<'a, 'b>(Closures.body body, options)

    /// A stage running a prepared Body (with an initializer, say).
    let stageOf (options: StageOptions) (body: Body<'a, 'b>) (scope: NurseryScope) : Stage<'a, 'b> = scope.Stage(body, options)

    /// A stage running a program once per item.
    let perItem (options: StageOptions) (command: PerItemCommand<'a, 'b>) (scope: NurseryScope) : Stage<'a, 'b> =
        scope.CommandStage(command, options)

    /// A stage served by persistent programs speaking newline-delimited JSON.
    let persistent (options: StageOptions) (command: PersistentCommand<'a, 'b>) (scope: NurseryScope) : Stage<'a, 'b> =
        scope.CommandStage(command, options)

    /// An in-process sink for successful items.
    let sink (action: 'a -> unit) (scope: NurseryScope) : Sink<'a> = scope.Sink<'a>(Action<'a>(action))

    /// Links `source` to `target` (completion flows by itself between blocks of one scope).
    let into (target: Dataflow.ITargetBlock<Item<'b>>) (source: Stage<'a, 'b>) : unit = source.LinkTo(target) |> ignore

    /// Runs the pipeline from `entry` over `source`; the task ends when every item has ended or the run aborted.
    let run (source: seq<'a>) (entry: Dataflow.ITargetBlock<Item<'a>>) (scope: NurseryScope) : Task<PipelineResult> =
        scope.RunAsync(source, entry, null, CancellationToken.None)

    /// Runs the pipeline and blocks until it ends, for scripts and notebooks; `timeout` is the run's deadline: when it
    /// passes the run is aborted with `AbortCause.Deadline` (its children are killed, every item accounted for).
    let runSynchronously (timeout: TimeSpan) (source: seq<'a>) (entry: Dataflow.ITargetBlock<Item<'a>>) (scope: NurseryScope) : PipelineResult =
        scope.RunAsync(source, entry, timeout, CancellationToken.None).GetAwaiter().GetResult()

    /// Runs with a key function and a cancellation token.
    let runWith (key: 'a -> string) (token: CancellationToken) (source: seq<'a>) (entry: Dataflow.ITargetBlock<Item<'a>>) (scope: NurseryScope) : Task<PipelineResult> =
        scope.RunAsync(source, entry, Func<'a, string>(key), token)

    /// The failures of a result, as an F# list.
    let failures (result: PipelineResult) : ChildFailure list = List.ofSeq result.Failures

    /// The first failure of a result, as an F# option.
    let firstFailure (result: PipelineResult) : ChildFailure option = Failures.Option.ofLanguageExt result.FirstFailure
