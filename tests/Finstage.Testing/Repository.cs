namespace Finstage.Testing;

/// <summary>Where the repository is, and which build configuration the running tests are.</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    /// <summary><c>Debug</c> or <c>Release</c>: the configuration of the assembly that is running, so a service's build next to it is the same.</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    /// <summary>The built entry assembly of a project, e.g. <c>ProjectOutput("services/crawler", "Finstage.Crawler")</c>.</summary>
    public static string ProjectOutput(string projectFolder, string assemblyName)
    {
        var dll = Path.Combine(Root, projectFolder, "bin", Configuration, "net10.0", assemblyName + ".dll");
        return File.Exists(dll)
            ? dll
            : throw new FileNotFoundException($"{assemblyName} is not built in {Configuration}; build Finstage.sln first (./test.sh does).", dll);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Finstage.sln")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException("No Finstage.sln above " + AppContext.BaseDirectory);
    }
}
