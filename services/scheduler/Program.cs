using Finstage.Scheduler;
using Finstage.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddScheduler();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapScheduler();
app.Run();

/// <summary>The scheduler's entry point, visible to its tests.</summary>
public partial class Program;
