using Finstage.FeedServer;

var builder = WebApplication.CreateSlimBuilder(args);
builder.AddFeedServer(args);

var app = builder.Build();
app.MapFeedServer();
await app.RunAsync();
