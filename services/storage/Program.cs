using Finstage.ServiceDefaults;
using Finstage.Storage;
using Finstage.Storage.Infrastructure;

// `migrate` brings the schema up to date with ConnectionStrings:StorageMigrations, then exits.
if (MigrateCommand.Handles(args))
{
    return await NewsDatabaseMigrations.RunCommandAsync(args);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddStorage();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapStorage();
await app.RunAsync();
return 0;

/// <summary>The storage service's entry point, visible to its tests.</summary>
public partial class Program;
