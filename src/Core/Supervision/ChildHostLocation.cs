namespace Nursery;

/// <summary>
/// Where the child host (Nursery.ChildHost.dll) and the <c>dotnet</c> executable that runs it are.
/// The default finds the host next to the application and dotnet the way the SDK does.
/// </summary>
/// <param name="HostAssembly">Full path of Nursery.ChildHost.dll.</param>
/// <param name="DotnetExecutable">Full path (or name on PATH) of the dotnet executable.</param>
public sealed record ChildHostLocation(string HostAssembly, string DotnetExecutable)
{
    /// <summary>The host next to the running application (or next to Nursery.Core.dll, for #r in notebooks), dotnet from DOTNET_HOST_PATH, the running dotnet, DOTNET_ROOT or PATH.</summary>
    public static ChildHostLocation Default { get; } = new(Launch.ShippedFiles.Locate("Nursery.ChildHost.dll") ?? Path.Combine(AppContext.BaseDirectory, "Nursery.ChildHost.dll"), FindDotnet());

    private static string FindDotnet()
    {
        var fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk))
            return fromSdk;
        var running = Environment.ProcessPath;
        if (running is not null && Path.GetFileNameWithoutExtension(running) == "dotnet")
            return running;
        var root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
        if (!string.IsNullOrEmpty(root) && File.Exists(Path.Combine(root, "dotnet")))
            return Path.Combine(root, "dotnet");
        return "dotnet";
    }
}
