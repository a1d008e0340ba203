using Finstage.Scheduler.Infrastructure;
using Finstage.Testing;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace Finstage.Scheduler.Tests;

/// <summary>
/// The dashboard's own buttons, clicked in a real browser (Debian's headless Chromium through its
/// chromedriver; scripts/chromium.sh installs both), against the scheduler running as its own process
/// as in production: with the anti-forgery check on (issue 12, item 1), "Trigger now" must still run
/// the job. The browser sends what the page gives it (the token header, the cookie), nothing added here.
/// </summary>
[Trait("Category", "Reliability")]
[Trait("Category", "Security")]
public sealed class DashboardBrowserTests(SchedulerFixture scheduler)
{
    private const string Group = "browser";
    private const string Symbol = "BRWSR";

    [Fact(Timeout = 240_000)]
    public async Task TriggerNow_RunsTheRecurringJob_WhenClickedInHeadlessChromium()
    {
        var ct = TestContext.Current.CancellationToken;
        // A database of its own: only this scheduler's Hangfire server can run the job it triggers.
        var database = await TestServers.CreateDatabaseAsync("finstage_scheduler_browser", ct);
        JobStorageMigrations.Apply(database);
        await using var service = await ServiceProcess.StartAsync("scheduler", Repository.ProjectOutput("services/scheduler", "Finstage.Scheduler"),
            new Dictionary<string, string?>
            {
                ["ConnectionStrings:Hangfire"] = TestServers.AsRuntimeUser(database),
                // The fixture's broker, whose probe receives what the job publishes.
                ["ConnectionStrings:RabbitMq"] = scheduler.Broker.ToString(),
                ["Hangfire:QueuePollInterval"] = "00:00:00.100",
                [$"Schedule:Groups:{Group}:Source"] = "yahoo",
                // Never on its own during the test: only the click runs it.
                [$"Schedule:Groups:{Group}:Cron"] = "0 0 1 1 *",
                [$"Schedule:Groups:{Group}:Symbols:0"] = Symbol,
            }, ct);
        using var browser = StartChromium();
        var wait = new WebDriverWait(browser, TimeSpan.FromSeconds(60));

        try
        {
            await browser.Navigate().GoToUrlAsync(new Uri(service.BaseAddress, "/hangfire/recurring"));
            browser.FindElement(By.CssSelector($"input.js-jobs-list-checkbox[value='crawl-{Group}']")).Click();
            var trigger = browser.FindElement(By.CssSelector("button.js-jobs-list-command[data-url$='/recurring/trigger']"));
            trigger.Text.ShouldContain("Trigger now");
            wait.Until(_ => trigger.Enabled);
            trigger.Click();

            // What the job does: a crawl request for the group's one symbol.
            await scheduler.Requests.WaitForAsync(1, request => request.Symbol == Symbol, TimeSpan.FromSeconds(60), ct);
            // And the dashboard shows the run as succeeded.
            await browser.Navigate().GoToUrlAsync(new Uri(service.BaseAddress, "/hangfire/jobs/succeeded"));
            wait.Until(driver =>
            {
                if (driver.PageSource.Contains($"Crawl group {Group}", StringComparison.Ordinal))
                {
                    return true;
                }
                driver.Navigate().Refresh();
                return false;
            });
        }
        catch
        {
            TestContext.Current.TestOutputHelper?.WriteLine($"--- page {browser.Url}:{Environment.NewLine}{browser.PageSource}");
            TestContext.Current.TestOutputHelper?.WriteLine($"--- {service.Name}:{Environment.NewLine}{service.OutputTail}");
            throw;
        }
    }

    /// <summary>
    /// Headless Chromium without a sandbox (CI runs the tests as root, where Chromium's sandbox cannot
    /// start). The browser and driver are named outright, so Selenium never looks for (or downloads) either.
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
}
