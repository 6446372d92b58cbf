namespace Nursery.Launch;

/// <summary>What to start: an executable, its arguments (never through a shell) and extra environment variables.</summary>
internal sealed record LaunchSpec(string Executable, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environment, string WorkingDirectory)
{
    public override string ToString() => Arguments.Count == 0 ? Executable : $"{Executable} {string.Join(' ', Arguments)}";
}
