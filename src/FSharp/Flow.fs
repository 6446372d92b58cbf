namespace Nursery.FSharp

open System
open System.Threading
open System.Threading.Tasks
open System.Threading.Tasks.Dataflow
open Nursery

/// A pipeline described by composition: a source of items and the stages they go through, in order. Nothing is
/// started until `Flow.run`; each stage's body is checked when it is added, so a function that cannot run in a child,
/// or a type its codec cannot round-trip, is refused where the flow is written. Build one with `Flow.ofSeq`.
[<Sealed>]
type Flow<'a> internal (attach: NurseryScope -> ITargetBlock<Item<'a>> -> (CancellationToken -> Task<PipelineResult>)) =
    /// Makes the flow's blocks in the scope, links the last one to `target`, and gives the run over the source.
    member internal _.Attach = attach

/// A flow that ends in a sink: a whole pipeline, ready to run with `Flow.run` (each run in a scope of its own).
[<Sealed>]
type Plan internal (run: NurseryScope -> CancellationToken -> Task<PipelineResult>) =
    member internal _.Run = run

/// Pipelines by composition, failures as `Result`:
///
///     let run (lines: string seq) =
///         task {
///             let! outcome =
///                 lines
///                 |> Flow.ofSeq
///                 |> Flow.through (StageOptions(Workers = 2)) Orders.parse
///                 |> Flow.through (StageOptions(Workers = 2)) Work.score
///                 |> Flow.into rows.Add
///                 |> Flow.run (NurseryOptions(DefaultPolicy = Policy.Skip))
///             match outcome with
///             | Ok result -> printfn "%d rows" result.Succeeded
///             | Error result -> for failure in result.Failures do printfn "%O" failure
///         }
[<RequireQualifiedAccess>]
[<CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Flow =

    /// A flow whose items are `items`, read lazily when the flow runs.
    let ofSeq (items: seq<'a>) : Flow<'a> =
        ArgumentNullException.ThrowIfNull items
        Flow<'a>(fun scope target -> fun token -> scope.RunAsync(items, target, null, token))

    /// The flow's items go through a stage running `body` (prepared with `Pipeline.body`, say with an initializer) in
    /// child processes.
    let throughBody (options: StageOptions) (body: Body<'a, 'b>) (flow: Flow<'a>) : Flow<'b> =
        ArgumentNullException.ThrowIfNull options
        ArgumentNullException.ThrowIfNull body
        Flow<'b>(fun scope target ->
            let stage = scope.Stage(body, options)
            stage.LinkTo target |> ignore
            flow.Attach scope stage)

    /// The flow's items go through a stage running `f` (a module function or a lambda that captures nothing, from a
    /// compiled assembly) in child processes, named after the function, with Nursery.FSharp's codec. Refused here,
    /// with what to do, when `f` cannot run in a child or its types cannot cross.
    let through (options: StageOptions) (f: 'a -> 'b) (flow: Flow<'a>) : Flow<'b> = throughBody options (Closures.body f) flow

    /// The flow ends in an in-process sink that runs `action` on every successful item.
    let into (action: 'a -> unit) (flow: Flow<'a>) : Plan =
        Plan(fun scope token -> flow.Attach scope (scope.Sink<'a>(Action<'a>(action))) token)

    /// The flow ends in an in-process sink that awaits `action` on every successful item.
    let intoTask (action: 'a -> Task) (flow: Flow<'a>) : Plan =
        Plan(fun scope token -> flow.Attach scope (scope.Sink<'a>(Func<'a, Task>(action))) token)

    /// Runs the plan in a new scope with `options` until every item has ended or the run aborted (every child is
    /// reaped first), and cancels it with `token`. Ok: every item succeeded. Error: an item failed or the run was
    /// aborted; the result says what became of every item (`Failures`, `AbortCause`).
    let runWith (token: CancellationToken) (options: NurseryOptions) (plan: Plan) : Task<Result<PipelineResult, PipelineResult>> =
        task {
            use scope = new NurseryScope(options)
            let! result = plan.Run scope token
            return if result.Completed && result.Failed = 0L then Ok result else Error result
        }

    /// `runWith` without a token: the run ends by itself, or at `options.Deadline` (`AbortCause.Deadline`).
    let run (options: NurseryOptions) (plan: Plan) : Task<Result<PipelineResult, PipelineResult>> =
        runWith CancellationToken.None options plan
