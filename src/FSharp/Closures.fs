namespace Nursery.FSharp

open System
open System.Reflection

/// F# function values as delegates that `Body.From` and `Body.WithInitializer` can describe to a child process: the
/// closure's own Invoke method, which the child runs on a fresh instance of the closure (so the closure must capture
/// nothing; `Body` refuses one that does, naming what it captures).
module internal Closures =

    /// Whether a child process can load the assembly from a file (not emitted in memory, as F# Interactive's are).
    let private canBeLoadedByAChild (assembly: Assembly) =
        not assembly.IsDynamic && not (String.IsNullOrEmpty assembly.Location)

    /// The static method a one-argument Invoke forwards to, when its IL is exactly `ldarg.1; [tail.] call m; ret`, or
    /// `ldarg.1; call m; ldnull; ret` (a void method seen as a function returning unit). The argument load is
    /// `ldarg.1` or its long form `ldarg 1`, which the .NET Interactive kernel's F# emits.
    let private forwardedStaticMethod (invoke: MethodInfo) : MethodInfo option =
        let il =
            try
                match invoke.GetMethodBody() with
                | null -> [||]
                | body ->
                    match body.GetILAsByteArray() with
                    | null -> [||]
                    | bytes -> bytes
            with
            | :? InvalidOperationException
            | :? NotSupportedException -> [||]
        let loaded =
            if il.Length > 0 && il[0] = 0x03uy then 1
            elif il.Length > 3 && il[0] = 0xFEuy && il[1] = 0x09uy && il[2] = 0x01uy && il[3] = 0x00uy then 4
            else 0
        if loaded = 0 then
            None
        else
            let at = if il.Length > loaded + 1 && il[loaded] = 0xFEuy && il[loaded + 1] = 0x14uy then loaded + 2 else loaded
            let returnsUnit = il.Length = at + 7 && il[at] = 0x28uy && il[at + 5] = 0x14uy && il[at + 6] = 0x2Auy
            if not returnsUnit && (il.Length <> at + 6 || il[at] <> 0x28uy || il[at + 5] <> 0x2Auy) then
                None
            else
                let token = BitConverter.ToInt32(il, at + 1)
                try
                    match invoke.Module.ResolveMethod token with
                    | :? MethodInfo as target when target.IsStatic && canBeLoadedByAChild target.Module.Assembly && target.GetParameters().Length = 1 -> Some target
                    | _ -> None
                with :? ArgumentException ->
                    None

    /// A delegate over what an F# function value runs: its Invoke method on the closure, or, when the closure is F#
    /// Interactive's forwarder around a compiled static method, that method. `result` None accepts any return type (an
    /// initializer), and then a forwarder around a void method gives an `Action<argument>`.
    let delegateOf (closure: obj) (argument: Type) (result: Type option) : Delegate =
        ArgumentNullException.ThrowIfNull closure
        let invoke = closure.GetType().GetMethod("Invoke", BindingFlags.Public ||| BindingFlags.Instance, [| argument |])
        match invoke with
        | null ->
            invalidArg "closure" (sprintf "%O is not a function from %O to %s." (closure.GetType()) argument (result |> Option.map string |> Option.defaultValue "anything"))
        | invoke when result.IsSome && invoke.ReturnType <> result.Value ->
            invalidArg "closure" (sprintf "%O is not a function from %O to %O." (closure.GetType()) argument result.Value)
        | invoke ->
            // F# Interactive and notebooks wrap a compiled function passed by name in a closure of their own dynamic
            // assembly; when that closure only forwards to a compiled static method, the child runs the method itself.
            let forwarded =
                if canBeLoadedByAChild (closure.GetType().Assembly) then None else forwardedStaticMethod invoke
            match forwarded with
            | Some target when target.ReturnType = invoke.ReturnType ->
                Delegate.CreateDelegate(typedefof<Func<_, _>>.MakeGenericType(argument, target.ReturnType), target)
            | Some target when result.IsNone && target.ReturnType = typeof<Void> ->
                Delegate.CreateDelegate(typedefof<Action<_>>.MakeGenericType(argument), target)
            | _ -> Delegate.CreateDelegate(typedefof<Func<_, _>>.MakeGenericType(argument, invoke.ReturnType), closure, invoke)

    /// A body from an F# function value (see `delegateOf`).
    let body<'a, 'b> (f: 'a -> 'b) : Nursery.Body<'a, 'b> =
        Nursery.Body.From<'a, 'b>(delegateOf (f :> obj) typeof<'a> (Some typeof<'b>) :?> Func<'a, 'b>)

    /// `body` with an initializer from an F# function value `'state -> unit` (see `delegateOf`).
    let withInitializer<'state, 'a, 'b> (initializer: 'state -> unit) (state: 'state) (body: Nursery.Body<'a, 'b>) : Nursery.Body<'a, 'b> =
        match delegateOf (initializer :> obj) typeof<'state> None with
        | :? Action<'state> as action -> body.WithInitializer<'state>(action, state)
        | :? Func<'state, unit> as func -> body.WithInitializer<'state, unit>(func, state)
        | other -> invalidArg "initializer" (sprintf "%O is not a function from %O to unit." (other.GetType()) typeof<'state>)
