using System.Text;
using System.Text.RegularExpressions;
using CliWrap;
using CliWrap.Buffered;

namespace Nursery.Compilation;

/// <summary>
/// F# with the SDK's own compiler (fsc.dll), run as a process: F# Interactive and the .NET Interactive kernel each have
/// their own FSharp.Compiler.Service and FSharp.Core loaded, and a second copy in the same process would clash.
/// </summary>
internal sealed partial class FSharpCompiler : ILanguageCompiler
{
    public static readonly FSharpCompiler Instance = new();

    private readonly Lazy<string?> _compiler = new(FindCompiler);

    public string Language => "F#";

    public string Extension => "fs";

    public string Identity
    {
        get
        {
            var compiler = CompilerPath;
            return $"fsc {compiler} {new FileInfo(compiler).Length}";
        }
    }

    private string CompilerPath =>
        _compiler.Value
        ?? throw new InvalidOperationException(
            $"No F# compiler was found: Nursery looks for sdk/<version>/FSharp/fsc.dll under {ReferenceSet.DotnetRoot}, the .NET installation running this process. Install the .NET SDK there (a runtime alone cannot compile F#)."
        );

    public void AddLanguageReferences(ReferenceSet references)
    {
        // F# Interactive and the kernel have FSharp.Core loaded (the loaded one is already in the set); elsewhere the SDK's.
        if (!references.Contains("FSharp.Core"))
            references.Add(Path.Combine(Path.GetDirectoryName(CompilerPath)!, "FSharp.Core.dll"));
    }

    public void Compile(string sourcePath, string publishedSourcePath, string assemblyName, string outputPath, ReferenceSet references, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var folder = Path.GetDirectoryName(sourcePath)!;
        var source = File.ReadAllText(sourcePath);
        if (!StartsWithModuleOrNamespace(source))
        {
            // A library's file must begin with a module or namespace (FS0222); a cell rarely does. The line directive
            // keeps the user's line numbers in errors and stack traces.
            File.WriteAllText(sourcePath, $"module Cell{Environment.NewLine}# 1 \"{sourcePath}\"{Environment.NewLine}{source}");
        }
        var arguments = new StringBuilder();
        foreach (var line in new[]
        {
            "--target:library",
            "--noframework",
            "--targetprofile:netcore",
            "--optimize+",
            "--debug:embedded",
            "--embed+",
            "--deterministic+",
            "--nologo",
            "--nocopyfsharpcore",
            $"--pathmap:{folder}={Path.GetDirectoryName(publishedSourcePath)}",
            $"--out:{outputPath}",
        })
            arguments.AppendLine(Quote(line));
        foreach (var reference in references.Paths)
            arguments.AppendLine(Quote($"-r:{reference}"));
        arguments.AppendLine(Quote(sourcePath));
        var responseFile = Path.Combine(folder, "fsc.rsp");
        File.WriteAllText(responseFile, arguments.ToString());

        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        BufferedCommandResult result;
        try
        {
            result = Cli.Wrap(Path.Combine(ReferenceSet.DotnetRoot, "dotnet"))
                .WithArguments([CompilerPath, $"@{responseFile}"])
                .WithWorkingDirectory(folder)
                .WithValidation(CommandResultValidation.None)
                .ExecuteBufferedAsync(bounded.Token)
                // Compiling is the one thing the caller waits for (a cell, a script); the bound above kills the compiler.
                .GetAwaiter()
                .GetResult();
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CompilationException(Language, [new CompilationError(0, 0, "timeout", $"The F# compiler ran longer than {timeout} and was killed; raise CompileOptions.CompilerTimeout on a slow machine.")]);
        }
        // It names every reference by its full path on this machine; the cache keeps the assembly, not how it was made.
        File.Delete(responseFile);
        if (result.ExitCode == 0 && File.Exists(outputPath))
            return;
        var errors = ParseErrors(result.StandardOutput + Environment.NewLine + result.StandardError, sourcePath);
        if (errors.Count == 0)
            errors = [new CompilationError(0, 0, $"exit {result.ExitCode}", (result.StandardError + result.StandardOutput).Trim())];
        throw new CompilationException(Language, errors);
    }

    [GeneratedRegex(@"^(?<file>.*?)(\((?<line>\d+),(?<column>\d+)\))?\s*:\s*error (?<code>FS\d+)\s*:\s*(?<message>.*)$")]
    private static partial Regex ErrorLine();

    private static List<CompilationError> ParseErrors(string output, string sourcePath)
    {
        var errors = new List<CompilationError>();
        foreach (var line in output.Split('\n', StringSplitOptions.TrimEntries))
        {
            var match = ErrorLine().Match(line);
            if (match.Success)
            {
                var inSource = match.Groups["line"].Success && Path.GetFileName(match.Groups["file"].Value) == Path.GetFileName(sourcePath);
                errors.Add(new CompilationError(
                    inSource ? int.Parse(match.Groups["line"].Value, System.Globalization.CultureInfo.InvariantCulture) : 0,
                    inSource ? int.Parse(match.Groups["column"].Value, System.Globalization.CultureInfo.InvariantCulture) : 0,
                    match.Groups["code"].Value,
                    match.Groups["message"].Value.Trim()
                ));
            }
            else if (errors.Count > 0 && line.Length > 0 && !line.Contains(": warning ", StringComparison.Ordinal))
            {
                // fsc continues a long message on the lines after it.
                var last = errors[^1];
                errors[^1] = last with { Message = last.Message + " " + line };
            }
        }
        return errors;
    }

    [GeneratedRegex(@"^(module|namespace)\s+(rec\s+)?[^=]*$")]
    private static partial Regex ModuleOrNamespaceLine();

    private static bool StartsWithModuleOrNamespace(string source)
    {
        foreach (var raw in source.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith("//", StringComparison.Ordinal) || line.StartsWith('#') || line.StartsWith("[<", StringComparison.Ordinal))
                continue;
            return ModuleOrNamespaceLine().IsMatch(line);
        }
        return false;
    }

    private static string Quote(string argument) => argument.Contains(' ', StringComparison.Ordinal) ? $"\"{argument}\"" : argument;

    private static string? FindCompiler()
    {
        var sdks = Path.Combine(ReferenceSet.DotnetRoot, "sdk");
        if (!Directory.Exists(sdks))
            return null;
        var runtime = Environment.Version.Major;
        // The newest SDK whose runtime is this one's or older, so its compiler runs here.
        return Directory
            .EnumerateDirectories(sdks)
            .Select(folder => (Folder: folder, Version: Version.TryParse(Path.GetFileName(folder).Split('-')[0], out var version) ? version : null))
            .Where(sdk => sdk.Version is not null && sdk.Version.Major <= runtime && File.Exists(Path.Combine(sdk.Folder, "FSharp", "fsc.dll")))
            .OrderByDescending(sdk => sdk.Version)
            .Select(sdk => Path.Combine(sdk.Folder, "FSharp", "fsc.dll"))
            .FirstOrDefault();
    }
}
