namespace Nursery.Testing;

/// <summary>An isolated property was falsified: the message is FsCheck's report (shrunk counterexample, labels with the child's failure, replay seed).</summary>
public sealed class IsolatedPropertyException : Exception
{
    /// <summary>An exception with FsCheck's report as its message.</summary>
    public IsolatedPropertyException(string report)
        : base(report) { }

    /// <summary>An exception with no report.</summary>
    public IsolatedPropertyException()
        : base("An isolated property was falsified.") { }

    /// <summary>An exception with a message and the exception behind it.</summary>
    public IsolatedPropertyException(string message, Exception innerException)
        : base(message, innerException) { }
}
