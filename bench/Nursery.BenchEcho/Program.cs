namespace Nursery.BenchEcho;

/// <summary>
/// The smallest .NET child there is: writes one byte as soon as it runs, then echoes stdin to stdout until EOF.
/// The benchmark times <c>dotnet Nursery.BenchEcho.dll</c> from spawn to that first byte, the floor under a worker's start.
/// </summary>
internal static class Program
{
    private static int Main()
    {
        using var stdout = Console.OpenStandardOutput();
        using var stdin = Console.OpenStandardInput();
        stdout.WriteByte((byte)'R');
        stdout.Flush();
        stdin.CopyTo(stdout);
        return 0;
    }
}
