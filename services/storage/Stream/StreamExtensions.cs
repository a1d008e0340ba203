
namespace Finstage.Storage.Stream;

/// <summary>The live stream's wiring, called from the storage's Extensions.</summary>
public static class StreamExtensions
{
    public static IServiceCollection AddNewsStream(this IServiceCollection services)
    {
        services.AddOptions<StreamOptions>().BindConfiguration(StreamOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<StreamMetrics>();
        services.AddSingleton<NewsBroadcast>();
        return services;
    }

    public static WebApplication MapNewsStream(this WebApplication app)
    {
        // Streams end when the service stops, rather than holding the shutdown up: clients reconnect, elsewhere if they can.
        var stream = app.Services.GetRequiredService<NewsBroadcast>();
        app.Lifetime.ApplicationStopping.Register(stream.Close);
        app.MapStreamEndpoint();
        return app;
    }
}
