using Finstage.Testing;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace Finstage.Reliability.Tests;

/// <summary>
/// One crawl seen where a person would look at it (issue 17): the three services run as processes and
/// export to the real Aspire dashboard, started as <c>./run.sh</c> starts it; what the dashboard then
/// holds is read back through its HTTP API, not from the services' own memory.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class TraceViewerTests
{
    private static void Record(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    // Three services, the dashboard and a crawl took 3.5 minutes on the shared 2-core machine, and more
    // than 8 once (load average above 60, builds beside it): each start may take its 2 minutes.
    [Fact(Timeout = 900_000)]
    public async Task Dashboard_ShowsOneCrawlAsOneTraceAndTheFinstageMetrics_WhenTheServicesExportToIt()
    {
        var ct = TestContext.Current.CancellationToken;
        var elapsed = System.Diagnostics.Stopwatch.StartNew();
        await using var viewer = await TraceViewer.StartAsync(ct);
        Record($"dashboard up after {elapsed.Elapsed.TotalSeconds:0} s");
        var exporting = viewer.ExporterSettings;
        await using var pipeline = await RunningPipeline.StartAsync("trace_viewer", 1, TimeSpan.Zero, ct,
            storageSettings: exporting, crawlerSettings: exporting, schedulerSettings: exporting);
        Record($"services up after {elapsed.Elapsed.TotalSeconds:0} s");
        await pipeline.ReportOnFailureAsync(async () =>
        {
            var cycle = await pipeline.RequestCycleAsync(ct);
            await pipeline.WaitForCycleAsync(cycle, TimeSpan.FromSeconds(120), ct);
            var crawlId = (await pipeline.CrawlIdsAsync(cycle, ct)).ShouldHaveSingleItem().ToString();
            Record($"crawl stored after {elapsed.Elapsed.TotalSeconds:0} s");

            // The storage's span ends last; spans leave each service within half a second of ending, but
            // under a loaded machine that can take much longer, hence a minute.
            var stored = await Eventually.WaitForAsync(
                async () => (await viewer.GetSpansAsync(ct)).FirstOrDefault(span =>
                    span.Name == "store crawl result" && span.Attributes.GetValueOrDefault("finstage.crawl.id") == crawlId),
                span => span is not null, TimeSpan.FromSeconds(60), $"the storage's span of crawl {crawlId} in the dashboard", ct);

            // The rest of the trace may still be on its way from the other two services, and the storage's own batch
            // spans (the parents of its database spans) end after the crawl's span, so they can arrive after it: wait for a
            // whole tree (one span without its parent in the trace), which the assertions below then read.
            var trace = await Eventually.WaitForAsync(
                () => viewer.GetTraceAsync(stored!.TraceId, ct),
                spans => spans.Any(span => span.Service == "Finstage.Scheduler" && span.Name.StartsWith("job ", StringComparison.Ordinal))
                    && spans.Any(span => span.Service == "Finstage.Crawler" && span.Name == "crawl feed")
                    && Roots(spans) == 1,
                TimeSpan.FromSeconds(60), $"the scheduler's and the crawler's spans in trace {stored!.TraceId}, as one tree", ct);
            foreach (var span in trace)
            {
                Record(span.ToString());
            }

            trace.ShouldAllBe(span => span.TraceId == stored.TraceId);
            trace.Select(span => span.Service).Distinct().Order().ShouldBe(["Finstage.Crawler", "Finstage.Scheduler", "Finstage.Storage"]);
            var scheduler = trace.Where(span => span.Service == "Finstage.Scheduler").ToList();
            scheduler.ShouldContain(span => span.Name.StartsWith("job CrawlFanOut.", StringComparison.Ordinal), "the scheduler's Hangfire job");
            scheduler.ShouldContain(span => span.Name == "request crawl" && span.Attributes.GetValueOrDefault("finstage.symbol") == pipeline.Symbols[0],
                "the scheduler's request for the symbol");
            scheduler.ShouldContain(span => span.Scope == "MassTransit" && IsKind(span, "Producer"), "the scheduler's publish");
            var crawler = trace.Where(span => span.Service == "Finstage.Crawler").ToList();
            crawler.ShouldContain(span => span.Scope == "MassTransit" && IsKind(span, "Consumer"), "the crawler's consume");
            crawler.ShouldContain(span => span.Name == "crawl feed" && span.Attributes.GetValueOrDefault("finstage.crawl.id") == crawlId, "the crawler's crawl");
            crawler.ShouldContain(span => span.Scope == "System.Net.Http" && IsKind(span, "Client"), "the crawler's fetch of the feed");
            trace.Where(span => span.Service == "Finstage.Storage").ShouldContain(span => span.Name == "store crawl result", "the storage's write");
            // One tree: every span but the root has its parent in the trace.
            Roots(trace).ShouldBe(1, "one root, from which the crawl can be followed");

            Record($"trace read back after {elapsed.Elapsed.TotalSeconds:0} s");

            // The metrics, where a person reads them: the dashboard's metrics page of each service lists the
            // instruments it received (the API has no metrics), read in headless Chromium as a person sees it.
            using var browser = StartChromium();
            ShouldListInstruments(browser, viewer, "Finstage.Crawler",
                ["finstage.crawls", "finstage.crawl.duration", "finstage.crawl.fetch.duration", "finstage.crawl.articles",
                 "finstage.crawl.queue.lag", "finstage.crawl.queue.depth"]);
            ShouldListInstruments(browser, viewer, "Finstage.Storage", ["finstage.storage.batch.size", "finstage.storage.articles"]);
            ShouldListInstruments(browser, viewer, "Finstage.Scheduler", ["finstage.scheduler.jobs"]);
        });
    }

    /// <summary>Opens a service's metrics page and waits (a minute: gauges are polled every 10 s) until it names every instrument.</summary>
    private static void ShouldListInstruments(ChromeDriver browser, TraceViewer viewer, string service, IReadOnlyList<string> instruments)
    {
        var page = new Uri(viewer.Address, $"/metrics/resource/{service}");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        List<string> missing;
        while (true)
        {
            // Loaded afresh each time: the page lists what the dashboard held when it was rendered.
            browser.Navigate().GoToUrl(page);
            var body = new WebDriverWait(browser, TimeSpan.FromSeconds(30))
                .Until(driver => driver.FindElement(By.TagName("body")).Text is { Length: > 0 } text && text.Contains("Finstage", StringComparison.Ordinal) ? text : null);
            missing = instruments.Where(instrument => !body!.Contains(instrument, StringComparison.Ordinal)).ToList();
            if (missing.Count == 0 || DateTime.UtcNow > deadline)
            {
                break;
            }
            Thread.Sleep(2000);
        }
        missing.ShouldBeEmpty($"instruments of {service} missing from {page}");
        Record($"{service}: {string.Join(", ", instruments)} on {page}");
    }

    /// <summary>
    /// Debian's headless Chromium without a sandbox (the tests may run as root), named outright so that
    /// Selenium never looks for or downloads a browser; ./test.sh installs both through scripts/chromium.sh.
    /// </summary>
    private static ChromeDriver StartChromium()
    {
        var browser = Environment.GetEnvironmentVariable("FINSTAGE_CHROMIUM") is { Length: > 0 } named ? named : "/usr/bin/chromium";
        var driver = Environment.GetEnvironmentVariable("FINSTAGE_CHROMEDRIVER") is { Length: > 0 } given ? given : "/usr/bin/chromedriver";
        File.Exists(browser).ShouldBeTrue($"{browser} is missing: scripts/chromium.sh installs Debian's chromium (./test.sh runs it)");
        File.Exists(driver).ShouldBeTrue($"{driver} is missing: scripts/chromium.sh installs Debian's chromium-driver (./test.sh runs it)");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(driver)!, Path.GetFileName(driver));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = browser };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1400,1000");
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }

    // OTLP/JSON writes the kind as a number (SPAN_KIND_CLIENT = 3, PRODUCER = 4, CONSUMER = 5) or as its name.
    /// <summary>The spans whose parent is not in <paramref name="trace"/>: one for a whole tree.</summary>
    private static int Roots(IReadOnlyList<ViewedSpan> trace)
    {
        var ids = trace.Select(span => span.SpanId).ToHashSet();
        return trace.Count(span => !ids.Contains(span.ParentSpanId));
    }

    private static bool IsKind(ViewedSpan span, string kind) =>
        span.Kind.Contains(kind, StringComparison.OrdinalIgnoreCase) || span.Kind == kind switch
        {
            "Client" => "3",
            "Producer" => "4",
            "Consumer" => "5",
            _ => "?",
        };
}
