/// F# Interactive and the .NET Interactive kernel wrap a compiled function passed by name in a closure of their own
/// dynamic assembly, which a child cannot load; the child runs the compiled function the closure forwards to. F#
/// Interactive loads the argument with `ldarg.1`, the kernel's F# with the long form `ldarg 1`: both are seen through.
module Nursery.FSharp.Tests.KernelForwarders

open System
open System.Collections.Concurrent
open System.Reflection
open System.Reflection.Emit
open Xunit
open Nursery
open Nursery.FSharp

/// A closure in a dynamic assembly whose Invoke is `ldarg 1` (or `ldarg.1`); `call target`; `ret`, as the kernel
/// makes for `Pipeline.stage options Bodies.double`.
let private forwarder (longForm: bool) (target: MethodInfo) : int -> int =
    let assembly = AssemblyBuilder.DefineDynamicAssembly(AssemblyName "FSI-ASSEMBLY", AssemblyBuilderAccess.Run)
    let closure =
        assembly
            .DefineDynamicModule("FSI-ASSEMBLY")
            .DefineType("FSI_0005+double@2", TypeAttributes.Public ||| TypeAttributes.Sealed, typeof<FSharpFunc<int, int>>)
    closure.DefineDefaultConstructor MethodAttributes.Public |> ignore
    let invoke =
        closure.DefineMethod("Invoke", MethodAttributes.Public ||| MethodAttributes.Virtual ||| MethodAttributes.HideBySig, typeof<int>, [| typeof<int> |])
    let il = invoke.GetILGenerator()
    if longForm then il.Emit(OpCodes.Ldarg, 1s) else il.Emit OpCodes.Ldarg_1
    il.Emit(OpCodes.Call, target)
    il.Emit OpCodes.Ret
    closure.DefineMethodOverride(invoke, nonNull (typeof<FSharpFunc<int, int>>.GetMethod("Invoke", [| typeof<int> |])))
    nonNull (Activator.CreateInstance(closure.CreateType())) :?> (int -> int)

[<Theory>]
[<InlineData(true)>]
[<InlineData(false)>]
let ``A compiled function passed by name from a kernel cell runs in children`` (longForm: bool) =
    task {
        let bodies = nonNull typeof<Bodies.Order>.DeclaringType
        let double = forwarder longForm (nonNull (bodies.GetMethod "double"))
        let seen = ConcurrentBag<int>()
        use scope = Pipeline.scope (NurseryOptions(DefaultPolicy = Policy.Skip))
        let stage = scope |> Pipeline.stage (StageOptions(Workers = 1)) double
        stage |> Pipeline.into (scope |> Pipeline.sink seen.Add)

        let! result = (scope |> Pipeline.run [ 1; 2; 3 ] stage).WaitAsync PipelineTests.bound

        Assert.True(result.Completed, string result)
        Assert.Equal<int list>([ 2; 4; 6 ], seen |> Seq.sort |> List.ofSeq)
        scope.Dispose()
        let! gone = PipelineTests.allGoneAsync stage.ProcessIds
        Assert.NotEmpty stage.ProcessIds
        Assert.True(gone, "a child of the stage is still running")
    }
