using Finstage.Testing;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Finstage.Crawler.Tests.Fetching;

/// <summary>
/// DNS rebinding on the crawler (<see cref="HostNamesContract{TEntryPoint}"/>): it serves only its health endpoints,
/// but those too are answered for the loopback names alone.
/// </summary>
[Collection(nameof(SharedCrawler))]
[Trait("Category", "Reliability")]
[Trait("Category", "Security")]
public sealed class HostNamesTests(CrawlerFixture crawler) : HostNamesContract<Program>
{
    protected override WebApplicationFactory<Program> Factory => crawler.Crawler;

    protected override string ServiceName => "crawler";

    protected override int Port => 5081;

    protected override IReadOnlyList<string> Paths => ["/health/ready"];

    // A new host is live at once; ready only once its bus is connected.
    protected override string AllowedHostsPath => "/health/live";
}
