namespace Finstage.Crawler.Tests;

/// <summary>Finds test data: the project's own fixtures beside the test binary, and the shared captures in ../shared/fixtures.</summary>
internal static class FixturePaths
{
    /// <summary>The shared fixtures folder, or null when this checkout has none (a fresh clone without ../shared).</summary>
    public static string? Shared()
    {
        var overridden = Environment.GetEnvironmentVariable("FINSTAGE_FIXTURES");
        if (!string.IsNullOrWhiteSpace(overridden))
        {
            return Directory.Exists(overridden) ? Path.GetFullPath(overridden) : null;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Finstage.sln")))
            {
                var shared = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "fixtures"));
                return Directory.Exists(shared) ? shared : null;
            }
        }

        return null;
    }

    /// <summary>A sub-folder of the shared fixtures, or a skipped test saying where it was looked for.</summary>
    public static string SharedOrSkip(string relative)
    {
        var root = Shared();
        var path = root is null ? null : Path.Combine(root, relative);
        if (path is null || !Directory.Exists(path))
        {
            Assert.Skip($"shared fixtures not found at {path ?? DescribeSearch()} (set FINSTAGE_FIXTURES to override)");
        }

        return path;
    }

    public static string Own(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    public static byte[] OwnBytes(string name) => File.ReadAllBytes(Own(name));

    /// <summary>The repository root (the folder holding Finstage.sln), for writing reports next to the docs.</summary>
    public static string? RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Finstage.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }

    private static string DescribeSearch() => $"../shared/fixtures above {AppContext.BaseDirectory}";
}
