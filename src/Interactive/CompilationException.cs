namespace Nursery;

/// <summary>Source given to <see cref="Compile"/> does not compile. The message lists each error with its line and column in the source.</summary>
public sealed class CompilationException : Exception
{
    /// <summary>A compilation failure with the errors the compiler reported.</summary>
    public CompilationException(string language, IReadOnlyList<CompilationError> errors)
        : base(Describe(language, errors))
    {
        Language = language;
        Errors = errors;
    }

    /// <summary>"C#" or "F#".</summary>
    public string Language { get; }

    /// <summary>The errors, in the compiler's order; lines and columns count from 1.</summary>
    public IReadOnlyList<CompilationError> Errors { get; }

    private static string Describe(string language, IReadOnlyList<CompilationError> errors) =>
        $"The {language} source does not compile ({errors.Count} error{(errors.Count == 1 ? "" : "s")}):"
        + string.Concat(errors.Select(error => Environment.NewLine + "  " + error))
        + Environment.NewLine
        + "Fix the source and compile it again.";
}

/// <summary>One compiler error: where in the source (from 1), the compiler's code and its message.</summary>
/// <param name="Line">The line in the source, from 1; 0 when the error is about no line (a missing reference).</param>
/// <param name="Column">The column, from 1; 0 when the error is about no line.</param>
/// <param name="Code">The compiler's code, e.g. CS0103 or FS0039.</param>
/// <param name="Message">The compiler's message.</param>
public sealed record CompilationError(int Line, int Column, string Code, string Message)
{
    /// <summary>"line 3, column 17: CS0103: The name 'y' does not exist in the current context".</summary>
    public override string ToString() => Line > 0 ? $"line {Line}, column {Column}: {Code}: {Message}" : $"{Code}: {Message}";
}
