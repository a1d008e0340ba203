using System.ComponentModel.DataAnnotations;
using Finstage.Scheduler.Jobs;
using Finstage.Scheduler.Watchlist;
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
        jobs.Keys.ShouldBe(["crawl-yahoo", "crawl-investing", "crawl-macro", CrawlFanOut.PollJobId], ignoreOrder: true);
        jobs[CrawlFanOut.PollJobId].Cron.ShouldBe("*/10 * * * * *");
        jobs["crawl-macro"].Cron.ShouldBe("0 0 2 1 *");
        jobs["crawl-macro"].NextExecution.ShouldNotBeNull();
    }

    [Fact(Timeout = 10_000)]
    [Trait("Category", "Reliability")]
    public void ShippedSchedule_IsValidAndEachSourceKeepsUp_WhenEveryEntryIsAtItsShortestInterval()
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"))
            .Build();
        var schedule = configuration.GetSection(ScheduleOptions.SectionName).Get<ScheduleOptions>()!;
        var polling = configuration.GetSection(PollingOptions.SectionName).Get<PollingOptions>()!;

        var problems = new List<ValidationResult>();
        Validator.TryValidateObject(schedule, new ValidationContext(schedule), problems, validateAllProperties: true).ShouldBeTrue(string.Join("; ", problems));
        Validator.TryValidateObject(polling, new ValidationContext(polling), problems, validateAllProperties: true).ShouldBeTrue(string.Join("; ", problems));
        schedule.Groups.ShouldNotBeEmpty();
        schedule.SweptGroups().ShouldBeEmpty("the shipped watchlist is polled adaptively");
        foreach (var (name, group) in schedule.Groups)
        {
            // Even if every entry of the source wanted its shortest interval, the host's rate would keep up: the budget
            // only has to choose between entries when users add far more than the default watchlist.
            var demand = schedule.SymbolsOf(group.Source).Count / polling.MinInterval.TotalSeconds;
            schedule.Sources.ShouldContainKey(group.Source, $"group {name} crawls a source the scheduler has no rate for");
            demand.ShouldBeLessThanOrEqualTo(schedule.RequestsPerSecondOf(group.Source), $"group {name}");
        }
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
