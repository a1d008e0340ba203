using System.Text.RegularExpressions;
using Finstage.Testing;
using MySqlConnector;

namespace Finstage.Reliability.Tests;

/// <summary>
/// docker-compose.yml cannot be run here (no Docker), so what it runs must be what the tests run against
/// (issue 17): its database image is the MariaDB major version of <c>scripts/servers.sh</c>'s server, and the
/// server version the storage is told to speak (<c>Database__ServerVersion</c>) is that same one.
/// </summary>
[Trait("Category", "Reliability")]
public sealed partial class ComposeDatabaseTests
{
    [Fact(Timeout = 60_000)]
    public async Task ComposeDatabase_IsTheMariaDbVersionTheTestsRunAgainst_WhenComparedWithTheTestServer()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var connection = new MySqlConnection(TestServers.MySqlAdmin);
        await connection.OpenAsync(ct);
        await using var command = new MySqlCommand("SELECT VERSION()", connection);
        // e.g. 10.11.14-MariaDB-0+deb12u2
        var tested = ((string)(await command.ExecuteScalarAsync(ct))!).Split('-');
        tested[1].ShouldStartWith("MariaDB", Case.Insensitive);
        var testedMajor = MajorMinor(tested[0]);

        var compose = await File.ReadAllTextAsync(Path.Combine(Repository.Root, "docker-compose.yml"), ct);
        var images = DatabaseImage().Matches(compose).Select(match => match.Groups["image"].Value).ToList();
        images.ShouldHaveSingleItem($"one database image in docker-compose.yml (found {string.Join(", ", images)})")
            .ShouldBe("mariadb:" + testedMajor, "the database docker-compose runs is the one the tests run against");

        var versions = ServerVersion().Matches(compose).Select(match => match.Groups["version"].Value).ToList();
        versions.ShouldNotBeEmpty();
        versions.ShouldAllBe(version => version.EndsWith("-mariadb", StringComparison.Ordinal) && MajorMinor(version) == testedMajor,
            "the storage speaks the dialect of the server it is given");
    }

    private static string MajorMinor(string version) => string.Join('.', version.Split('-')[0].Split('.').Take(2));

    [GeneratedRegex(@"^\s*image:\s*(?<image>(mysql|mariadb|percona)[^\s#]*)", RegexOptions.Multiline)]
    private static partial Regex DatabaseImage();

    [GeneratedRegex(@"Database__ServerVersion:\s*(?<version>\S+)")]
    private static partial Regex ServerVersion();
}
