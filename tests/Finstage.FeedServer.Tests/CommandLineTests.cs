using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Finstage.FeedServer.Tests;

[Trait("Lane", "Fast")]
public sealed class CommandLineTests
{
    [Fact(Timeout = 30_000)]
    public async Task AddFeedServer_BindsShortSwitches_WhenGivenOnCommandLine()
    {
        string[] args =
        [
            "--interval", "00:01:30", "--items", "20", "--broken", "AAPL,ECONOMY", "--failing", "NVDA",
            "--html", "META", "--not-modified", "XLE", "--latency", "00:00:00.250", "--public-base-url", "http://demo.test/",
        ];
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.AddFeedServer(args);
        await using var app = builder.Build();

        var options = app.Services.GetRequiredService<IOptions<FeedServerOptions>>().Value;

        options.ItemInterval.ShouldBe(TimeSpan.FromSeconds(90));
        options.ItemsPerFeed.ShouldBe(20);
        options.BrokenSymbols.ShouldBe("AAPL,ECONOMY");
        options.FailingSymbols.ShouldBe("NVDA");
        options.HtmlSymbols.ShouldBe("META");
        options.NotModifiedSymbols.ShouldBe("XLE");
        options.Latency.ShouldBe(TimeSpan.FromMilliseconds(250));
        options.PublicBaseUrl.ShouldBe(new Uri("http://demo.test/"));
    }

    [Fact(Timeout = 30_000)]
    public async Task AddFeedServer_BindsLongSettings_WhenGivenOnCommandLine()
    {
        string[] args = ["--FeedServer:HtmlSymbols=TECH", "--FeedServer:ItemsPerFeed=10"];
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.AddFeedServer(args);
        await using var app = builder.Build();

        var options = app.Services.GetRequiredService<IOptions<FeedServerOptions>>().Value;

        options.HtmlSymbols.ShouldBe("TECH");
        options.ItemsPerFeed.ShouldBe(10);
    }

    [Fact(Timeout = 30_000)]
    public async Task StartAsync_Throws_WhenOptionsAreOutOfRange()
    {
        await Should.ThrowAsync<System.ComponentModel.DataAnnotations.ValidationException>(
            () => FeedServerApp.StartAsync(new FeedServerOptions { ItemsPerFeed = 0 }, TestContext.Current.CancellationToken));
    }
}
