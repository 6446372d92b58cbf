namespace Nursery.Tests.Support;

/// <summary>The checkout the tests run from: the folder that holds Dataflow.sln.</summary>
public static class Repository
{
    /// <summary>The folder above this test assembly that holds Dataflow.sln.</summary>
    public static string Root => RootAbove(AppContext.BaseDirectory);

    /// <summary>The folder at or above <paramref name="directory"/> that holds Dataflow.sln.</summary>
    public static string RootAbove(string directory)
    {
        for (var folder = new DirectoryInfo(directory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Dataflow.sln")))
                return folder.FullName;
        }
        throw new DirectoryNotFoundException($"no Dataflow.sln above {directory}");
    }
}
