using System.Text;

namespace Nursery;

/// <summary>An exception thrown in a child process, as the parent sees it: type, message, stack trace and inner exceptions.</summary>
/// <param name="Type">The full name of the exception's type.</param>
/// <param name="Message">The exception's message.</param>
/// <param name="StackTrace">The child's stack trace (with file and line where the child had symbols).</param>
/// <param name="Inner">The inner exceptions, outermost first (several for an AggregateException).</param>
public sealed record RemoteError(string Type, string Message, string StackTrace, IReadOnlyList<RemoteError> Inner)
{
    /// <summary>Captures an exception (and its inner exceptions) as data.</summary>
    public static RemoteError From(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        IReadOnlyList<RemoteError> inner = exception switch
        {
            AggregateException aggregate => [.. aggregate.InnerExceptions.Select(From)],
            { InnerException: { } single } => [From(single)],
            _ => [],
        };
        return new RemoteError(exception.GetType().FullName ?? exception.GetType().Name, exception.Message, exception.StackTrace ?? "", inner);
    }

    internal void AppendTo(StringBuilder report, string indent)
    {
        report.Append(indent).Append(Type).Append(": ").AppendLine(Message);
        foreach (var line in StackTrace.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            report.Append(indent).Append("  ").AppendLine(line.TrimEnd('\r').Trim());
        foreach (var inner in Inner)
        {
            report.Append(indent).AppendLine("  ---> inner exception:");
            inner.AppendTo(report, indent + "  ");
        }
    }

    /// <summary>Type, message and stack trace, as .NET prints an exception.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        AppendTo(text, "");
        return text.ToString().TrimEnd();
    }
}
