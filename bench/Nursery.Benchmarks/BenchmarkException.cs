namespace Nursery.Benchmarks;

/// <summary>A measurement that could not be taken honestly (a wrong result, a failure value, a child that did not start); its row is reported as failed.</summary>
internal sealed class BenchmarkException : Exception
{
    public BenchmarkException() { }

    public BenchmarkException(string message)
        : base(message) { }

    public BenchmarkException(string message, Exception innerException)
        : base(message, innerException) { }
}
