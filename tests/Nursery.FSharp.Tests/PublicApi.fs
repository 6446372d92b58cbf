module Nursery.FSharp.Tests.PublicApi

open System
open System.IO
open System.Reflection
open Xunit

/// The public surface of an assembly, one line per public type and member, sorted: what src/FSharp/PublicAPI.txt
/// holds (F# has no public API analyzer; this is its stand-in).
let surface (assembly: Assembly) =
    let flags = BindingFlags.Public ||| BindingFlags.Instance ||| BindingFlags.Static ||| BindingFlags.DeclaredOnly
    [ for t in assembly.GetExportedTypes() do
          let name = t.FullName |> nonNull
          yield $"type {name}"
          for m in t.GetMembers flags do
              yield $"{name}: {m.MemberType} {m}" ]
    |> List.distinct
    |> List.sortWith (fun a b -> String.CompareOrdinal(a, b))

let private root () =
    let mutable directory = DirectoryInfo(AppContext.BaseDirectory)
    while not (File.Exists(Path.Combine(directory.FullName, "Dataflow.sln"))) do
        directory <- nonNull directory.Parent
    directory.FullName

/// With NURSERY_UPDATE_PUBLIC_API=1 (scripts/update-public-api.sh sets it) the file is rewritten instead of compared.
[<Fact>]
let ``Nursery.FSharp's public surface is the one in src/FSharp/PublicAPI.txt`` () =
    let path = Path.Combine(root (), "src", "FSharp", "PublicAPI.txt")
    let actual = surface (Assembly.Load "Nursery.FSharp")
    if Environment.GetEnvironmentVariable "NURSERY_UPDATE_PUBLIC_API" = "1" then
        File.WriteAllLines(path, actual)
    let recorded = if File.Exists path then File.ReadAllLines path |> List.ofArray else []
    let added = actual |> List.filter (fun line -> not (List.contains line recorded))
    let removed = recorded |> List.filter (fun line -> not (List.contains line actual))
    Assert.True(
        added.IsEmpty && removed.IsEmpty,
        sprintf
            "The public surface of Nursery.FSharp changed. If that is intended, run scripts/update-public-api.sh and commit src/FSharp/PublicAPI.txt.\nAdded:\n%s\nRemoved:\n%s"
            (String.Join("\n", added))
            (String.Join("\n", removed))
    )
