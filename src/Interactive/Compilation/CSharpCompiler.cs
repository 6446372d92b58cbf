using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Emit;
using Microsoft.CodeAnalysis.Text;

namespace Nursery.Compilation;

/// <summary>C# with Roslyn, in this process.</summary>
internal sealed class CSharpCompiler : ILanguageCompiler
{
    public static readonly CSharpCompiler Instance = new();

    private const string ImplicitUsings =
        "global using System; global using System.Collections.Generic; global using System.IO; global using System.Linq; global using System.Threading; global using System.Threading.Tasks;";

    public string Language => "C#";

    public string Extension => "cs";

    public string Identity => $"Roslyn {typeof(CSharpCompilation).Assembly.GetName().Version}";

    public void AddLanguageReferences(ReferenceSet references) { }

    public void Compile(string sourcePath, string publishedSourcePath, string assemblyName, string outputPath, ReferenceSet references, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var parse = CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Latest);
        var text = SourceText.From(File.ReadAllText(sourcePath), Encoding.UTF8);
        var tree = CSharpSyntaxTree.ParseText(text, parse, publishedSourcePath, cancellationToken);
        var usings = CSharpSyntaxTree.ParseText(SourceText.From(ImplicitUsings, Encoding.UTF8), parse, "ImplicitUsings.cs", cancellationToken);
        var compilation = CSharpCompilation.Create(
            assemblyName,
            [tree, usings],
            references.Paths.Select(path => MetadataReference.CreateFromFile(path)),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, optimizationLevel: OptimizationLevel.Release, deterministic: true)
        );
        using var output = File.Create(outputPath);
        var result = compilation.Emit(
            output,
            options: new EmitOptions(debugInformationFormat: DebugInformationFormat.Embedded),
            embeddedTexts: [EmbeddedText.FromSource(publishedSourcePath, text)],
            cancellationToken: cancellationToken
        );
        if (result.Success)
            return;
        var errors = result
            .Diagnostics.Where(diagnostic => diagnostic.Severity == DiagnosticSeverity.Error)
            .Select(diagnostic =>
            {
                var span = diagnostic.Location.GetLineSpan();
                var inSource = diagnostic.Location.IsInSource && span.Path == publishedSourcePath;
                return new CompilationError(
                    inSource ? span.StartLinePosition.Line + 1 : 0,
                    inSource ? span.StartLinePosition.Character + 1 : 0,
                    diagnostic.Id,
                    diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture)
                );
            })
            .ToArray();
        throw new CompilationException(Language, errors);
    }
}
