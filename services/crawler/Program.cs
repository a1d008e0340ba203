using Finstage.Crawler;
using Finstage.Crawler.Commands;
using Finstage.ServiceDefaults;

if (CrawlerCommands.Handles(args))
{
    return await CrawlerCommands.RunAsync(args, Console.Out, Console.Error);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddCrawler();

var app = builder.Build();
app.MapDefaultEndpoints();
await app.RunAsync();
return 0;

/// <summary>The crawler's entry point, visible to its tests.</summary>
public partial class Program;
