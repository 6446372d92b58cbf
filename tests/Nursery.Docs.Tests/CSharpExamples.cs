using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Nursery.Docs.Tests;

/// <summary>
/// Compiles a C# example with Roslyn against the assemblies of this test's output folder (Nursery and its
/// dependencies) and the runtime, as a project with the SDK's implicit usings and <c>using Nursery;</c> would.
/// An example with statements is compiled as a program (top-level statements), one without as a library.
/// </summary>
public static class CSharpExamples
{
    private const string ImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        global using Nursery;
        """;

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    [
        .. ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator)
            .Where(path => path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            .Select(path => MetadataReference.CreateFromFile(path)),
    ]);

    /// <summary>The compiler's errors, each as "file:line: CSnnnn: message"; empty when the example compiles.</summary>
    public static IReadOnlyList<string> Errors(DocExample example)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var tree = CSharpSyntaxTree.ParseText(ExampleSource.Of(example, (line, file) => $"#line {line} \"{file}\""), parse, path: example.File);
        var usings = CSharpSyntaxTree.ParseText(ImplicitUsings, parse, path: "(implicit usings)");
        var isProgram = tree.GetCompilationUnitRoot().Members.Any(member => member is GlobalStatementSyntax);
        var options = new CSharpCompilationOptions(isProgram ? OutputKind.ConsoleApplication : OutputKind.DynamicallyLinkedLibrary)
            .WithNullableContextOptions(NullableContextOptions.Enable);
        var compilation = CSharpCompilation.Create("DocExample", [usings, tree], References.Value, options);
        return
        [
            .. compilation.GetDiagnostics()
                .Where(diagnostic => diagnostic.Severity == DiagnosticSeverity.Error)
                .Select(diagnostic =>
                {
                    var span = diagnostic.Location.GetMappedLineSpan();
                    return $"{span.Path}:{span.StartLinePosition.Line + 1}: {diagnostic.Id}: {diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";
                }),
        ];
    }
}
