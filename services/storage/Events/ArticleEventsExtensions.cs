namespace Finstage.Storage.Events;

/// <summary>Wiring of the <c>ArticlesStored</c> outbox: its options, the commit signal and the relay.</summary>
public static class ArticleEventsExtensions
{
    /// <summary>Call after the bus is added: the relay starts after the bus has, and stops before it.</summary>
    public static IServiceCollection AddArticleEvents(this IServiceCollection services)
    {
        services.AddOptions<ArticleEventsOptions>().BindConfiguration(ArticleEventsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ArticleEventSignal>();
        services.AddHostedService<ArticleEventRelay>();
        return services;
    }
}
