using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Finstage.Testing;

namespace Finstage.EndToEnd.Tests;

public sealed class PipelineTests(PipelineFixture pipeline)
{
    private static readonly int SymbolCount = PipelineFixture.YahooSymbols.Length + PipelineFixture.InvestingSymbols.Length;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact(Timeout = 240_000)]
    public async Task Cycle_StoresEveryGoodSymbolAndRecordsEveryRun_AndASecondCycleAddsNoDuplicates()
    {
        var first = await RunCycleAsync();

        using var news = pipeline.Storage.CreateClient();
        foreach (var symbol in PipelineFixture.YahooSymbols.Concat(PipelineFixture.InvestingSymbols).Except([PipelineFixture.BrokenSymbol]))
        {
            var page = await news.GetFromJsonAsync<JsonElement>(new Uri($"/api/news?symbol={Uri.EscapeDataString(symbol)}", UriKind.Relative), Cancel);
            page.GetProperty("items").GetArrayLength().ShouldBeGreaterThan(0, $"articles for {symbol}");
        }
        var broken = await news.GetFromJsonAsync<JsonElement>(
            new Uri($"/api/crawls?symbol={PipelineFixture.BrokenSymbol}", UriKind.Relative), Cancel);
        broken.GetProperty("items")[0].GetProperty("status").GetString().ShouldBe("Failed");
        broken.GetProperty("items")[0].GetProperty("failureReason").GetString().ShouldBe("ParseError");
        // The market wrap is one article linked to every good Yahoo symbol, its tracking parameters gone.
        (await pipeline.CountAsync("SELECT COUNT(*) FROM articles WHERE url = 'https://finance.example.com/news/market-wrap.html'")).ShouldBe(1);
        (await pipeline.CountAsync("SELECT COUNT(*) FROM article_symbols s JOIN articles a ON a.id = s.article_id WHERE a.url LIKE '%market-wrap%'"))
            .ShouldBe(PipelineFixture.YahooSymbols.Length - 1);
        var articles = await pipeline.CountAsync("SELECT COUNT(*) FROM articles");
        var links = await pipeline.CountAsync("SELECT COUNT(*) FROM article_symbols");

        var second = await RunCycleAsync();

        (await pipeline.CountAsync("SELECT COUNT(*) FROM articles")).ShouldBe(articles);
        (await pipeline.CountAsync("SELECT COUNT(*) FROM article_symbols")).ShouldBe(links);
        (await pipeline.CountAsync($"SELECT COUNT(*) FROM crawl_runs WHERE cycle_id IN ('{second.Yahoo}', '{second.Investing}') AND new_articles > 0")).ShouldBe(0);
        (await pipeline.CountAsync($"SELECT COUNT(*) FROM crawl_runs WHERE cycle_id = '{second.Yahoo}' AND symbol = '{PipelineFixture.UnchangedSymbol}' AND status = 'NotModified'")).ShouldBe(1);
        (await pipeline.CountAsync($"SELECT COUNT(*) FROM crawl_runs WHERE cycle_id IN ('{first.Yahoo}', '{first.Investing}', '{second.Yahoo}', '{second.Investing}')")).ShouldBe(2 * SymbolCount);
    }

    [Fact(Timeout = 240_000)]
    public async Task Cycle_FollowsOneSymbolInOneTrace_FromTheSchedulersPublishToTheStoragesWrite()
    {
        var cycle = await RequestCrawlAsync("yahoo", ["NVDA"]);
        await WaitForRunsAsync(cycle, 1);

        var crawlId = Guid.Parse(await pipeline.ScalarAsync($"SELECT crawl_id FROM crawl_runs WHERE cycle_id = '{cycle}'"));

        // The storage span is the last to finish; once it is there, so are the others.
        var stored = await Eventually.WaitForAsync(
            () => Task.FromResult(pipeline.Activities.FirstOrDefault(a => a.OperationName == "store crawl result" && Equals(a.GetTagItem("finstage.crawl.id"), crawlId))),
            activity => activity is not null, TimeSpan.FromSeconds(30), "the storage's span for NVDA", Cancel);
        var trace = stored!.TraceId;
        var inTrace = pipeline.Activities.Where(a => a.TraceId == trace).ToList();
        inTrace.ShouldContain(a => a.OperationName.StartsWith("job ", StringComparison.Ordinal), "the scheduler's job");
        inTrace.ShouldContain(a => a.OperationName == "request crawl" && Equals(a.GetTagItem("finstage.symbol"), "NVDA"), "the scheduler's publish");
        inTrace.Where(a => a.OperationName == "crawl feed").ShouldHaveSingleItem().GetTagItem("finstage.symbol").ShouldBe("NVDA");
        inTrace.ShouldContain(a => a.Source.Name == "System.Net.Http" && a.Kind == System.Diagnostics.ActivityKind.Client, "the crawler's HTTP fetch");
        inTrace.ShouldContain(a => a.Source.Name == "MassTransit" && a.Kind == System.Diagnostics.ActivityKind.Consumer, "a consume");
    }

    private async Task<(Guid Yahoo, Guid Investing)> RunCycleAsync()
    {
        var yahoo = await RequestCrawlAsync("yahoo");
        var investing = await RequestCrawlAsync("investing");
        await WaitForRunsAsync(yahoo, PipelineFixture.YahooSymbols.Length);
        await WaitForRunsAsync(investing, PipelineFixture.InvestingSymbols.Length);
        return (yahoo, investing);
    }

    private async Task<Guid> RequestCrawlAsync(string source, string[]? symbols = null)
    {
        using var client = pipeline.Scheduler.CreateClient();
        using var response = await client.PostAsJsonAsync("/api/crawls", new { source, symbols }, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("cycleId").GetGuid();
    }

    private Task<long> WaitForRunsAsync(Guid cycle, int count) =>
        Eventually.WaitForAsync(
            () => pipeline.CountAsync($"SELECT COUNT(*) FROM crawl_runs WHERE cycle_id = '{cycle}'"),
            runs => runs >= count, TimeSpan.FromSeconds(120), $"{count} crawl runs of cycle {cycle}", Cancel);
}
