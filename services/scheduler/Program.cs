using Finstage.Scheduler;
using Finstage.Scheduler.Infrastructure;
using Finstage.ServiceDefaults;

// `migrate` creates or upgrades Hangfire's tables with ConnectionStrings:HangfireMigrations, then exits.
if (MigrateCommand.Handles(args))
{
    return await JobStorageMigrations.RunCommandAsync(args);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddScheduler();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapScheduler();
await app.RunAsync();
return 0;

/// <summary>The scheduler's entry point, visible to its tests.</summary>
public partial class Program;
