using Finstage.Crawler.Commands;

if (CrawlerCommands.Handles(args))
{
    return CrawlerCommands.Run(args, Console.Out, Console.Error);
}

// The worker host; the consumers that fetch feeds are registered here as they are added.
var builder = Host.CreateApplicationBuilder(args);
await builder.Build().RunAsync();
return 0;
