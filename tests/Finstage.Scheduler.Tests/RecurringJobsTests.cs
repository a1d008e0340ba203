using Finstage.Scheduler.Jobs;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Finstage.Scheduler.Tests;

public sealed class RecurringJobsTests(SchedulerFixture scheduler)
{
    [Fact(Timeout = 60_000)]
    public void Start_RegistersOneJobPerGroupAndRemovesStaleOnes_WhenConfigurationChanged()
    {
        var manager = scheduler.Factory.Services.GetRequiredService<IRecurringJobManager>();
        manager.AddOrUpdate<CrawlFanOut>("crawl-retired", job => job.RunGroupAsync("retired", null, CancellationToken.None), Cron.Yearly());

        var restarted = scheduler.Create(new Dictionary<string, string?>
        {
            ["Schedule:Groups:macro:Source"] = "yahoo",
            ["Schedule:Groups:macro:Cron"] = "0 0 2 1 *",
            ["Schedule:Groups:macro:Symbols:0"] = "^TNX",
        });
        using var connection = restarted.Services.GetRequiredService<JobStorage>().GetConnection();

        var jobs = connection.GetRecurringJobs().ToDictionary(job => job.Id);
        jobs.Keys.ShouldBe(["crawl-yahoo", "crawl-investing", "crawl-macro"], ignoreOrder: true);
        jobs["crawl-macro"].Cron.ShouldBe("0 0 2 1 *");
        jobs["crawl-macro"].NextExecution.ShouldNotBeNull();
    }

    [Fact(Timeout = 10_000)]
    public void DefaultConfiguration_HoldsTheOriginalWatchlist_WhenNothingIsOverridden()
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"))
            .Build();
        var schedule = configuration.GetSection(ScheduleOptions.SectionName).Get<ScheduleOptions>()!;

        schedule.Groups["yahoo"].Symbols.Count.ShouldBe(33);
        schedule.Groups["yahoo"].Symbols.ShouldContain("DX-Y.NYB");
        schedule.Groups["investing"].Symbols.Count.ShouldBe(13);
        schedule.Groups.Values.ShouldAllBe(group => group.Cron == "*/3 * * * *");
        schedule.CrawlOnStart.ShouldBeTrue();
    }

    [Fact(Timeout = 60_000)]
    public async Task Start_CrawlsEveryGroupAtOnce_WhenCrawlOnStartIsSet()
    {
        var before = scheduler.Requests.Messages.Select(r => r.Message.CycleId).ToHashSet();

        _ = scheduler.Create(new Dictionary<string, string?> { ["Schedule:CrawlOnStart"] = "true" }).Services;

        var received = await scheduler.Requests.WaitForAsync(
            4, request => !before.Contains(request.CycleId), TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        received.Select(r => r.Message.Source).Distinct().ShouldBe(["yahoo", "investing"], ignoreOrder: true);
    }

    [Fact(Timeout = 60_000)]
    public void Start_FailsWithTheGroupNamed_WhenAGroupHasNoSymbols()
    {
        var broken = scheduler.Create(new Dictionary<string, string?>
        {
            ["Schedule:Groups:empty:Source"] = "yahoo",
            ["Schedule:Groups:empty:Cron"] = "*/5 * * * *",
        });

        var failure = Should.Throw<Microsoft.Extensions.Options.OptionsValidationException>(() => broken.Services);
        scheduler.RestoreHangfireGlobals();

        failure.Message.ShouldContain("Group 'empty' needs at least one symbol");
    }
}
