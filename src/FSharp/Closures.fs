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

    /// The static method a one-argument Invoke only calls, when its IL is exactly `ldarg.1; [tail.] call m; ret`, or
    /// `ldarg.1; call m; ldnull; ret` (a void method seen as a function returning unit), after any `nop`s of a debug build.
    /// The argument load is `ldarg.1` or its long form `ldarg 1`, which the .NET Interactive kernel's F# emits.
    let private calledStaticMethod (invoke: MethodInfo) : MethodInfo option =
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
        let il = il |> Array.skipWhile ((=) 0x00uy)
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
                    | :? MethodInfo as target when target.IsStatic && target.GetParameters().Length = 1 -> Some target
                    | _ -> None
                with :? ArgumentException ->
                    None

    /// `calledStaticMethod`, when a child process can load the method's assembly.
    let private forwardedStaticMethod (invoke: MethodInfo) : MethodInfo option =
        calledStaticMethod invoke |> Option.filter (fun target -> canBeLoadedByAChild target.Module.Assembly)

    /// The closure's one-argument Invoke method.
    let private invokeOf (closure: obj) (argument: Type) =
        closure.GetType().GetMethod("Invoke", BindingFlags.Public ||| BindingFlags.Instance, [| argument |])

    /// The name of the function an F# function value stands for, as `Declaring.Type.function`: the method its Invoke
    /// only calls (`Orders.parse` passed by name), else the binding F# named the closure after (the part of its type's
    /// name before '@', as in `parse@12`); None for a closure F# named `clo`.
    let functionName (closure: obj) (argument: Type) : string option =
        match invokeOf closure argument with
        | null -> None
        | invoke ->
            match calledStaticMethod invoke with
            | Some target -> Some $"{target.DeclaringType |> Option.ofObj |> Option.map (fun t -> t.FullName) |> Option.defaultValue String.Empty}.{target.Name}"
            | None ->
                let closureType = closure.GetType()
                let name = closureType.Name
                match name.IndexOf '@' with
                | at when at > 0 && name[.. at - 1] <> "clo" ->
                    let outer = closureType.DeclaringType |> Option.ofObj |> Option.map (fun t -> t.FullName) |> Option.defaultValue String.Empty
                    Some $"{outer}.{name[.. at - 1]}"
                | _ -> None

    /// A delegate over what an F# function value runs: its Invoke method on the closure, or, when the closure is F#
    /// Interactive's forwarder around a compiled static method, that method. `result` None accepts any return type (an
    /// initializer), and then a forwarder around a void method gives an `Action<argument>`.
    let delegateOf (closure: obj) (argument: Type) (result: Type option) : Delegate =
        ArgumentNullException.ThrowIfNull closure
        match invokeOf closure argument with
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

    /// JsonCodec when it round-trips both types, else FSharpJsonCodec. The child then needs Nursery.FSharp and
    /// FSharp.SystemTextJson only for bodies over F# unions, and a body of plain types starts as fast as from C#.
    let codecFor (input: Type) (output: Type) : Nursery.ICodec =
        let json = Nursery.JsonCodec()
        let handles (t: Type) =
            try
                json.EnsureSupported t
                true
            with :? NotSupportedException ->
                false
        if handles input && handles output then json else FSharpJsonCodec()

    /// A body from an F# function value (see `delegateOf`), in the codec `codecFor` picks, named after the function
    /// (see `functionName`), not after the closure's Invoke method.
    let body<'a, 'b> (f: 'a -> 'b) : Nursery.Body<'a, 'b> =
        let body = Nursery.Body.From<'a, 'b>(delegateOf (f :> obj) typeof<'a> (Some typeof<'b>) :?> Func<'a, 'b>, codecFor typeof<'a> typeof<'b>)
        match functionName (f :> obj) typeof<'a> with
        | Some name -> body.WithName name
        | None -> body

    /// `body` with an initializer from an F# function value `'state -> unit` (see `delegateOf`).
    let withInitializer<'state, 'a, 'b> (initializer: 'state -> unit) (state: 'state) (body: Nursery.Body<'a, 'b>) : Nursery.Body<'a, 'b> =
        match delegateOf (initializer :> obj) typeof<'state> None with
        | :? Action<'state> as action -> body.WithInitializer<'state>(action, state)
        | :? Func<'state, unit> as func -> body.WithInitializer<'state, unit>(func, state)
        | other -> invalidArg "initializer" (sprintf "%O is not a function from %O to unit." (other.GetType()) typeof<'state>)
