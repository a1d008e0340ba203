using Finstage.Crawler.Fetching;
using Microsoft.Extensions.Options;

namespace Finstage.Crawler.Tests.Fetching;

[Trait("Lane", "Fast")]
public sealed class FetchPlacesTests
{
    // Never contacted: these tests only build the services.
    private static readonly Uri NoServer = new("http://127.0.0.1:9/");

    [Fact(Timeout = 10_000)]
    public void FetchPlaces_HoldTheConfiguredFetchesForEachQueue_AndTakeTwiceAsManyMessages()
    {
        using var host = new FetchHost(NoServer, new Dictionary<string, string?>
        {
            ["Fetch:ConcurrentFetches"] = "5",
            ["Fetch:ManualConcurrentFetches"] = "2",
        });

        host.Places.Scheduled.GetStatistics()!.CurrentAvailablePermits.ShouldBe(5);
        host.Places.Manual.GetStatistics()!.CurrentAvailablePermits.ShouldBe(2);
        FetchPlaces.MessagesFor(5).ShouldBe(10);
    }

    [Theory(Timeout = 10_000)]
    [InlineData("ConcurrentMessageLimit")]
    [InlineData("ManualConcurrentMessageLimit")]
    public void FetchOptions_RefuseNamingTheNewSettings_WhenAnOldConcurrencyNameIsSet(string oldName)
    {
        using var host = new FetchHost(NoServer, new Dictionary<string, string?> { ["Fetch:" + oldName] = "16" });

        var failure = Should.Throw<OptionsValidationException>(() => host.Places);

        failure.Message.ShouldContain("Fetch:ConcurrentFetches");
        failure.Message.ShouldContain("Fetch:ManualConcurrentFetches");
    }
}
