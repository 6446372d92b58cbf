namespace Nursery.Launch;

/// <summary>
/// Finds the files Nursery ships beside its assemblies (the child host, the Python helper): next to the application
/// first, then next to Nursery.Core.dll itself — which is where they are when the library is loaded with
/// <c>#r</c> from F# Interactive or a notebook, whose application directory is the SDK's.
/// </summary>
internal static class ShippedFiles
{
    public static string? Locate(string fileName)
    {
        foreach (var directory in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(typeof(ShippedFiles).Assembly.Location) ?? "" })
        {
            if (directory.Length > 0 && File.Exists(Path.Combine(directory, fileName)))
                return Path.Combine(directory, fileName);
        }
        return null;
    }
}
