using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Finstage.Storage.Infrastructure;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a running server.</summary>
internal sealed class DesignTimeNewsDbContextFactory : IDesignTimeDbContextFactory<NewsDbContext>
{
    public NewsDbContext CreateDbContext(string[] args)
    {
        var options = new DatabaseOptions();
        var builder = new DbContextOptionsBuilder<NewsDbContext>()
            .UseMySql("Server=127.0.0.1;Database=finstage", ServerVersion.Parse(options.ServerVersion));
        return new NewsDbContext(builder.Options);
    }
}
