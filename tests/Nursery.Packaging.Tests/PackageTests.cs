using System.Globalization;
using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Nursery.Tests.Support;

namespace Nursery.Packaging.Tests;

/// <summary>What a user gets from the packages alone: a fresh project, a restore from the packed folder, a pipeline.</summary>
public sealed partial class PackageTests(PackedNursery packed) : IClassFixture<PackedNursery>
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(3);

    [Fact]
    public void The_packages_carry_their_docs_the_readme_and_the_child_host_and_depend_only_on_each_other_and_third_parties()
    {
        var core = Read("Nursery.Core");
        var dataflow = Read("Nursery.Dataflow");
        var fsharp = Read("Nursery.FSharp");

        foreach (var id in PackedNursery.Ids)
        {
            var package = Read(id);
            Assert.Contains($"lib/net10.0/{id}.dll", package.Files);
            Assert.Contains($"lib/net10.0/{id}.xml", package.Files);
            Assert.Contains("README.md", package.Files);
            Assert.Equal("README.md", package.Metadata("readme"));
            Assert.Equal("MIT", package.Metadata("license"));
            Assert.False(string.IsNullOrWhiteSpace(package.Metadata("description")));
            Assert.DoesNotContain("Nursery.ChildHost", package.Dependencies);
        }
        Assert.Contains("childhost/Nursery.ChildHost.dll", dataflow.Files);
        Assert.Contains("childhost/Nursery.ChildHost.runtimeconfig.json", dataflow.Files);
        Assert.Contains("buildTransitive/Nursery.Dataflow.targets", dataflow.Files);
        Assert.Contains("contentFiles/any/any/nursery_worker.py", core.Files);
        // Microsoft.NET.StringTools is pinned for this repository's build only: consumers get what MessagePack asks for.
        Assert.Equal(["CliWrap", "LanguageExt.Core", "MessagePack", "Microsoft.Extensions.Logging.Abstractions"], core.Dependencies.Order());
        Assert.Equal(["Nursery.Core"], dataflow.Dependencies);
        Assert.Equal(["FSharp.Core", "FSharp.SystemTextJson", "Nursery.Dataflow"], fsharp.Dependencies.Order());
        Assert.Equal(["CliWrap", "Microsoft.CodeAnalysis.CSharp", "Nursery.Core"], Read("Nursery.Interactive").Dependencies.Order());
        Assert.Equal(["FsCheck", "Nursery.Core", "Nursery.Dataflow"], Read("Nursery.Testing").Dependencies.Order());
        Assert.Equal(["Microsoft.Extensions.Hosting.Abstractions", "Microsoft.Extensions.Options.ConfigurationExtensions", "Nursery.Dataflow"], Read("Nursery.Extensions.Hosting").Dependencies.Order());
    }

    [Fact]
    public async Task A_fresh_CSharp_project_restored_from_the_packages_alone_runs_a_pipeline_and_reports_the_child_failure_as_Faulted()
    {
        var project = WriteConsumer("CSharpConsumer", "csproj", ConsumerProject("Nursery.Dataflow"), ("Program.cs", CSharpProgram));

        var output = await BuildAndRunAsync(project, "CSharpConsumer.dll");

        AssertParsedWithOneFailure(output, sum: 7);
    }

    [Fact]
    public async Task A_fresh_FSharp_project_restored_from_the_packages_alone_runs_a_pipeline_and_reports_the_child_failure_as_Faulted()
    {
        var project = WriteConsumer(
            "FSharpConsumer",
            "fsproj",
            $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
              </PropertyGroup>
              <ItemGroup>
                <Compile Include="Program.fs" />
              </ItemGroup>
              <ItemGroup>
                <PackageReference Include="Nursery.FSharp" Version="{packed.Version}" />
              </ItemGroup>
            </Project>
            """,
            ("Program.fs", FSharpProgram)
        );

        var output = await BuildAndRunAsync(project, "FSharpConsumer.dll");

        AssertParsedWithOneFailure(output, sum: 7);
    }

    [Fact]
    public async Task A_fresh_project_restored_from_Nursery_Interactive_compiles_a_cell_and_runs_its_function_in_children()
    {
        var project = WriteConsumer("InteractiveConsumer", "csproj", ConsumerProject("Nursery.Interactive", "Nursery.Dataflow"), ("Program.cs", InteractiveProgram));

        var output = await BuildAndRunAsync(project, "InteractiveConsumer.dll");

        AssertParsedWithOneFailure(output, sum: 14);
    }

    [Fact]
    public async Task A_fresh_project_restored_from_Nursery_Testing_alone_falsifies_a_crashing_property_and_shrinks_it()
    {
        var project = WriteConsumer("TestingConsumer", "csproj", ConsumerProject("Nursery.Testing"), ("Program.cs", TestingProgram));

        var output = await BuildAndRunAsync(project, "TestingConsumer.dll");

        Assert.Contains("falsified: True, failure: Crashed, counterexample: 6", output);
        var parent = ParentLine().Match(output);
        Assert.True(parent.Success, output);
        Assert.Empty(Processes.Marked("NURSERY_PARENT_PID", parent.Groups[1].Value));
    }

    [Fact]
    public async Task A_fresh_worker_service_restored_from_Nursery_Extensions_Hosting_runs_a_configured_pipeline_and_stops()
    {
        var project = WriteConsumer(
            "HostingConsumer",
            "csproj",
            ConsumerProject("Nursery.Extensions.Hosting", ("Microsoft.Extensions.Hosting", "11.0.0")),
            ("Program.cs", HostingProgram)
        );

        var output = await BuildAndRunAsync(project, "HostingConsumer.dll");

        AssertParsedWithOneFailure(output, sum: 7);
    }

    private string ConsumerProject(params object[] packages)
    {
        var references = string.Join(
            "\n",
            packages.Select(package => package switch
            {
                string id => $"""    <PackageReference Include="{id}" Version="{packed.Version}" />""",
                (string id, string version) => $"""    <PackageReference Include="{id}" Version="{version}" />""",
                _ => throw new ArgumentException($"not a package: {package}", nameof(packages)),
            })
        );
        return $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
            {references}
              </ItemGroup>
            </Project>
            """;
    }

    // What every consumer prints of a run: its counts, each failure by kind, then (after the scope is disposed) the pids
    // of the stage's children, for AssertChildrenGone.
    private const string Report = """
        static class Report
        {
            public static void Print(Nursery.PipelineResult result, int sum, IEnumerable<int> children)
            {
                Console.WriteLine($"{(result.Completed ? "completed" : "aborted")}: {result.Inputs} inputs, {result.Succeeded} succeeded, {result.Failed} failed");
                foreach (var failure in result.Failures)
                    Console.WriteLine($"item {failure.Key}: {failure.Kind}: {(failure is Nursery.ChildFailure.Faulted f ? f.Error.Type : failure.Summary)}");
                Console.WriteLine($"sum: {sum}");
                Console.WriteLine($"children: {string.Join(",", children)}");
            }
        }
        """;

    private const string InteractiveProgram = """
        using Nursery;

        var cell = Compile.CSharp("public static class Cell { public static int Twice(string text) => 2 * int.Parse(text, System.Globalization.CultureInfo.InvariantCulture); }");
        var total = 0;
        PipelineResult result;
        Stage<string, int> twice;
        await using (var scope = new NurseryScope(new NurseryOptions { DefaultPolicy = Policy.Skip }))
        {
            twice = scope.Stage(cell.Body<string, int>("Cell.Twice"), new StageOptions { Workers = 2 });
            twice.LinkTo(scope.Sink<int>(x => Interlocked.Add(ref total, x)));
            result = await scope.RunAsync(["1", "2", "x", "4"], twice).WaitAsync(TimeSpan.FromSeconds(60));
        }
        Report.Print(result, total, twice.ProcessIds);

        """ + Report;

    private const string TestingProgram = """
        Console.WriteLine($"parent: {Environment.ProcessId}");
        var run = await Nursery.Testing.Isolated.RunAsync<int, int>(Work.CrashAboveFive, (x, y) => x == y).WaitAsync(TimeSpan.FromSeconds(120));
        Console.WriteLine($"falsified: {run.Falsified}, failure: {run.Failure?.Kind}, counterexample: {run.Counterexample}");

        static class Work
        {
            public static int CrashAboveFive(int x)
            {
                if (x > 5)
                    Environment.FailFast("a case above five");
                return x;
            }
        }
        """;

    private const string HostingProgram = """
        using Microsoft.Extensions.Configuration;
        using Microsoft.Extensions.DependencyInjection;
        using Microsoft.Extensions.Hosting;
        using Nursery;
        using Nursery.Hosting;

        var builder = Host.CreateApplicationBuilder(args);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Nursery:DefaultPolicy"] = "Skip",
            ["Nursery:StopHostWhenDone"] = "true",
            ["Nursery:Stages:parse:Workers"] = "2",
        });
        var total = 0;
        Stage<string, int>? parse = null;
        builder.Services.AddNursery(builder.Configuration.GetSection("Nursery")).AddPipeline("parse", (context, cancellationToken) =>
        {
            parse = context.Scope.Stage<string, int>(Work.Parse, context.StageOptions("parse"));
            parse.LinkTo(context.Scope.Sink<int>(x => Interlocked.Add(ref total, x)));
            return context.Scope.RunAsync(["1", "2", "x", "4"], parse, cancellationToken: cancellationToken);
        });
        using var host = builder.Build();
        var results = host.Services.GetRequiredService<NurseryPipelineResults>();
        await host.RunAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var result = await results.WhenEnded("parse").WaitAsync(TimeSpan.FromSeconds(5)) ?? throw new InvalidOperationException("the pipeline never ran");
        Report.Print(result, total, parse!.ProcessIds);

        static class Work
        {
            public static int Parse(string text) => int.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
        }

        """ + Report;

    private const string CSharpProgram = """
        using Nursery;

        await using var scope = new NurseryScope(new NurseryOptions { DefaultPolicy = Policy.Skip });
        var parse = scope.Stage<string, int>(Work.Parse, new StageOptions { Workers = 2 });
        var total = 0;
        parse.LinkTo(scope.Sink<int>(x => Interlocked.Add(ref total, x)));

        var result = await scope.RunAsync(["1", "2", "x", "4"], parse).WaitAsync(TimeSpan.FromSeconds(60));
        Console.WriteLine($"{(result.Completed ? "completed" : "aborted")}: {result.Inputs} inputs, {result.Succeeded} succeeded, {result.Failed} failed");
        foreach (var failure in result.Failures)
        {
            var what = failure.Match(
                faulted: f => $"Faulted: {f.Error.Type}",
                startFailed: s => $"StartFailed: {s.Reason}",
                crashed: c => $"Crashed: {c.Summary}",
                outOfMemory: o => "OutOfMemory",
                timedOut: t => "TimedOut",
                protocolViolation: p => $"ProtocolViolation: {p.Detail}",
                cancelled: c => "Cancelled");
            Console.WriteLine($"item {failure.Key}: {what}");
        }
        Console.WriteLine($"sum: {total}");
        await scope.DisposeAsync();
        Console.WriteLine($"children: {string.Join(",", parse.ProcessIds)}");

        static class Work
        {
            public static int Parse(string text) => int.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
        }
        """;

    private const string FSharpProgram = """
        module Program

        open System
        open System.Threading
        open Nursery
        open Nursery.FSharp

        module Work =
            let parse (text: string) = Int32.Parse(text, Globalization.CultureInfo.InvariantCulture)

        [<EntryPoint>]
        let main _ =
            let total = ref 0
            let scope = Pipeline.scope (NurseryOptions(DefaultPolicy = Policy.Skip))
            let parse = scope |> Pipeline.stage (StageOptions(Workers = 2)) Work.parse
            parse |> Pipeline.into (scope |> Pipeline.sink (fun x -> Interlocked.Add(&total.contents, x) |> ignore))
            let result = (scope |> Pipeline.run [ "1"; "2"; "x"; "4" ] parse).WaitAsync(TimeSpan.FromSeconds 60.0).GetAwaiter().GetResult()
            printfn "%s: %d inputs, %d succeeded, %d failed" (if result.Completed then "completed" else "aborted") result.Inputs result.Succeeded result.Failed
            for failure in Pipeline.failures result do
                let what =
                    match failure with
                    | Faulted f -> $"Faulted: {f.Error.Type}"
                    | StartFailed s -> $"StartFailed: {s.Reason}"
                    | Crashed c -> $"Crashed: {c.Summary}"
                    | OutOfMemory _ -> "OutOfMemory"
                    | TimedOut _ -> "TimedOut"
                    | ProtocolViolation p -> $"ProtocolViolation: {p.Detail}"
                    | Cancelled _ -> "Cancelled"
                printfn "item %s: %s" failure.Key what
            printfn "sum: %d" total.Value
            scope.Dispose()
            printfn "children: %s" (String.Join(",", parse.ProcessIds))
            0
        """;

    private string WriteConsumer(string name, string extension, string projectFile, params (string Name, string Text)[] sources)
    {
        var directory = Path.Combine(packed.Root, name);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, $"{name}.{extension}"), projectFile);
        foreach (var (file, text) in sources)
            File.WriteAllText(Path.Combine(directory, file), text);
        return Path.Combine(directory, $"{name}.{extension}");
    }

    // Restore (from the packed folder and third-party feeds only), build, check the shipped files landed next to the
    // output, and run the consumer the way a user would: dotnet its.dll.
    private async Task<string> BuildAndRunAsync(string project, string assembly)
    {
        var directory = Path.GetDirectoryName(project)!;
        await Commands.SucceedAsync(directory, Bound, "restore", project, "--configfile", packed.NuGetConfig, "--packages", packed.Packages, "-v", "q");
        await Commands.SucceedAsync(directory, Bound, "build", project, "--no-restore", "-c", "Release", "-o", Path.Combine(directory, "out"), "-v", "q", "-nologo");
        var output = Path.Combine(directory, "out");
        Assert.True(File.Exists(Path.Combine(output, "Nursery.ChildHost.dll")), "the child host was not copied next to the consumer's output");
        Assert.True(File.Exists(Path.Combine(output, "Nursery.ChildHost.runtimeconfig.json")));
        Assert.True(File.Exists(Path.Combine(output, "nursery_worker.py")), "the Python helper was not copied next to the consumer's output");
        Assert.StartsWith(packed.Packages, Directory.GetDirectories(packed.Packages, "nursery.core").Single(), StringComparison.Ordinal);
        return await Commands.SucceedAsync(output, Bound, Path.Combine(output, assembly));
    }

    // The consumers' run over ["1", "2", "x", "4"] under Skip: the child's throw on "x" is item 2's Faulted value, the
    // other three reach the sink, and every child the stage started is gone.
    private static void AssertParsedWithOneFailure(string output, int sum)
    {
        Assert.Contains("completed: 4 inputs, 3 succeeded, 1 failed", output);
        Assert.Contains("item 2: Faulted: System.FormatException", output);
        Assert.Contains($"sum: {sum}", output);
        AssertChildrenGone(output);
    }

    private static void AssertChildrenGone(string output)
    {
        var match = ChildrenLine().Match(output);
        Assert.True(match.Success, output);
        var pids = match.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(pid => int.Parse(pid, CultureInfo.InvariantCulture)).ToList();
        Assert.NotEmpty(pids);
        Assert.All(pids, pid => Assert.True(Processes.IsGone(pid), $"child {pid} is still running"));
    }

    [Fact]
    public void The_packages_name_their_repository_link_their_readme_absolutely_and_ship_no_path_of_the_build_machine()
    {
        foreach (var id in PackedNursery.Ids)
        {
            var package = Read(id);
            var repository = package.Nuspec.Descendants().Single(element => element.Name.LocalName == "repository");
            Assert.Equal("git", (string?)repository.Attribute("type"));
            Assert.StartsWith("https://github.com/", (string?)repository.Attribute("url"), StringComparison.Ordinal);
            Assert.StartsWith("https://github.com/", package.Metadata("projectUrl"), StringComparison.Ordinal);

            var readme = package.Text("README.md");
            var links = MarkdownLink().Matches(readme).Select(match => match.Groups[1].Value).ToList();
            Assert.NotEmpty(links);
            Assert.All(links, link => Assert.Matches("^(https://|#)", link));

            var documents = package.PdbDocuments($"lib/net10.0/{id}.dll");
            Assert.NotEmpty(documents);
            Assert.All(documents, document => Assert.StartsWith("/_/src/", document, StringComparison.Ordinal));
        }
    }

    private Package Read(string id)
    {
        using var zip = ZipFile.OpenRead(Path.Combine(packed.Feed, $"{id}.{packed.Version}.nupkg"));
        var files = zip.Entries.Select(entry => entry.FullName).ToList();
        using var nuspec = zip.GetEntry($"{id}.nuspec")!.Open();
        return new Package(files, XDocument.Load(nuspec), Path.Combine(packed.Feed, $"{id}.{packed.Version}.nupkg"));
    }

    private sealed record Package(IReadOnlyList<string> Files, XDocument Nuspec, string Path)
    {
        public string Text(string file)
        {
            using var zip = ZipFile.OpenRead(Path);
            using var reader = new StreamReader(zip.GetEntry(file)!.Open());
            return reader.ReadToEnd();
        }

        /// <summary>The source file names recorded in the embedded portable pdb of <paramref name="file"/>.</summary>
        public IReadOnlyList<string> PdbDocuments(string file)
        {
            using var zip = ZipFile.OpenRead(Path);
            using var bytes = new MemoryStream();
            using (var entry = zip.GetEntry(file)!.Open())
                entry.CopyTo(bytes);
            bytes.Position = 0;
            using var pe = new System.Reflection.PortableExecutable.PEReader(bytes);
            var embedded = pe.ReadDebugDirectory().Single(entry => entry.Type == System.Reflection.PortableExecutable.DebugDirectoryEntryType.EmbeddedPortablePdb);
            using var provider = pe.ReadEmbeddedPortablePdbDebugDirectoryData(embedded);
            var pdb = provider.GetMetadataReader();
            return [.. pdb.Documents.Select(handle => pdb.GetString(pdb.GetDocument(handle).Name))];
        }

        public string? Metadata(string name) => Nuspec.Descendants().FirstOrDefault(element => element.Name.LocalName == name)?.Value;

        public IReadOnlyList<string> Dependencies => [.. Nuspec.Descendants().Where(element => element.Name.LocalName == "dependency").Select(element => (string)element.Attribute("id")!)];
    }

    [GeneratedRegex(@"\]\(([^)]+)\)")]
    private static partial Regex MarkdownLink();

    [GeneratedRegex(@"children: ([0-9,]+)")]
    private static partial Regex ChildrenLine();

    [GeneratedRegex(@"parent: ([0-9]+)")]
    private static partial Regex ParentLine();
}
