using Finstage.Hangfire.MySql;
using Finstage.Scheduler.Apis;
using Finstage.Scheduler.Infrastructure;
using Finstage.Contracts;
using Finstage.Scheduler.Consumers;
using Finstage.Scheduler.Jobs;
using Finstage.Scheduler.Watchlist;
using Finstage.ServiceDefaults;
using Hangfire;
using Microsoft.Extensions.Options;
using Scalar.AspNetCore;

namespace Finstage.Scheduler;

/// <summary>The scheduler's wiring: Hangfire on MySQL, the recurring fan-outs, the dashboard and API.</summary>
public static class Extensions
{
    public static WebApplicationBuilder AddScheduler(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ScheduleOptions>().BindConfiguration(ScheduleOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Infrastructure.DashboardOptions>().BindConfiguration(Infrastructure.DashboardOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<JobsOptions>().BindConfiguration(JobsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<HangfireConnection>()
            .Configure<IConfiguration>((connection, configuration) => connection.ConnectionString = configuration.GetConnectionString("Hangfire"))
            .Validate(connection => !string.IsNullOrWhiteSpace(connection.ConnectionString), "ConnectionStrings:Hangfire must name the scheduler's database.")
            .ValidateOnStart();

        services.AddHangfire((provider, hangfire) =>
        {
            var storageOptions = JobStorageMigrations.StorageOptions(builder.Configuration);
            // Hangfire's filters are process-wide: a second host in one process (as in tests) must not add a second tracer.
            if (!GlobalJobFilters.Filters.Any(filter => filter.Instance is JobTracingFilter))
            {
                hangfire.UseFilter(new JobTracingFilter());
            }
            hangfire
                .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                .UseSimpleAssemblyNameTypeSerializer()
                .UseRecommendedSerializerSettings()
                .UseMySqlStorage(provider.GetRequiredService<IOptions<HangfireConnection>>().Value.ConnectionString!, storageOptions);
        });
        // Before Hangfire's server: the tables are the migrate step's (JobStorageMigrations), and must be current.
        services.AddHostedService<RequireMigratedJobStorage>();
        services.AddHangfireServer((provider, server) =>
        {
            var jobs = provider.GetRequiredService<IOptions<JobsOptions>>().Value;
            server.WorkerCount = jobs.WorkerCount;
            // Recurring jobs and retries start within a second of their time, not Hangfire's default 15 s.
            server.SchedulePollingInterval = TimeSpan.FromSeconds(1);
        });
        services.AddOptions<PollingOptions>().BindConfiguration(PollingOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<WatchlistStore>();
        services.AddSingleton<RoundPlanner>();
        services.AddSingleton<PollingLoad>();
        services.AddSingleton(provider => new PollingRule(
            provider.GetRequiredService<IOptionsMonitor<PollingOptions>>(), provider.GetRequiredService<TimeProvider>(), Random.Shared));
        // After the schema check, before the recurring jobs: the first polling round finds the seeded entries.
        services.AddHostedService<SeedWatchlist>();
        services.AddSingleton<CrawlFanOut>();
        services.AddSingleton<ManualCrawlBudget>();
        services.AddSingleton<SchedulerMetrics>();
        services.AddSingleton(TimeProvider.System);
        services.AddHostedService<RegisterRecurringJobs>();
        services.AddHealthChecks().AddCheck<JobStorageHealthCheck>("hangfire-storage", tags: [ServiceDefaults.Extensions.ReadyTag]);

        // Hangfire's dashboard checks its anti-forgery token on every POST (trigger, delete, requeue) only
        // when IAntiforgery is registered; without it any page the operator opens can post to it.
        // Its own pages carry the token (a meta tag its script sends as a header) and the cookie.
        services.AddAntiforgery();

        builder.AddFinstageBus(bus =>
        {
            bus.AddConsumer<CrawlResultsConsumer>(typeof(CrawlResultsConsumerDefinition));
            // The crawler answers; the scheduler never fetches a feed itself.
            bus.AddRequestClient<CheckFeed>();
        });
        services.AddProblemDetails();
        services.AddOpenApi();
        return builder;
    }

    public static WebApplication MapScheduler(this WebApplication app)
    {
        app.UseProblemResponses();
        var dashboard = app.Services.GetRequiredService<IOptions<Infrastructure.DashboardOptions>>().Value;
        app.MapHangfireDashboard("/hangfire", new global::Hangfire.DashboardOptions
        {
            DashboardTitle = "Finstage scheduler",
            Authorization = [new DashboardAccessFilter(dashboard)],
            IsReadOnlyFunc = _ => dashboard.ReadOnly,
            AppPath = "/scalar/v1",
        });
        app.MapOpenApi();
        app.MapScalarApiReference();
        app.MapGet("/", () => Results.Redirect("/hangfire")).ExcludeFromDescription();
        // The control API changes what is crawled: the dashboard's rule (loopback, or the configured credentials) guards it.
        var access = new DashboardAccessFilter(dashboard);
        RouteGroupBuilder Protect(RouteGroupBuilder group) => group.AddEndpointFilter(async (context, next) =>
            access.Authorize(context.HttpContext) ? await next(context) : TypedResults.Unauthorized());
        app.MapCrawlsApi(Protect);
        app.MapWatchlistApi(Protect);
        return app;
    }
}
