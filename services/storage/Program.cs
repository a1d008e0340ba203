using Finstage.ServiceDefaults;
using Finstage.Storage;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddStorage();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapStorage();
app.Run();

/// <summary>The storage service's entry point, visible to its tests.</summary>
public partial class Program;
