using Finstage.Storage.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Finstage.Storage.Tests;

/// <summary>What the tests read back through EF Core: the service itself reads by hand-written SQL only.</summary>
internal static class NewsDbQueries
{
    /// <summary>A query on a pooled <see cref="NewsDbContext"/> of the ingest pool, tracking nothing.</summary>
    public static async Task<T> QueryNewsDbAsync<T>(
        this IServiceProvider services, Func<NewsDbContext, CancellationToken, Task<T>> query, CancellationToken cancellationToken)
    {
        await using var db = await services.GetRequiredService<IDbContextFactory<NewsDbContext>>().CreateDbContextAsync(cancellationToken);
        db.ChangeTracker.QueryTrackingBehavior = QueryTrackingBehavior.NoTracking;
        return await query(db, cancellationToken);
    }
}
