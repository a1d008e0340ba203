using Finstage.Storage.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Finstage.Storage.Tests;

public sealed class DatabaseOptionsTests(StorageFixture storage)
{
    [Fact(Timeout = 10_000)]
    public void BuildConnectionString_MirrorsTheSeedPool_WhenDefaultsAreKept()
    {
        var built = new MySqlConnectionStringBuilder(new DatabaseOptions().BuildConnectionString("Server=db;Database=finstage"));

        built.MinimumPoolSize.ShouldBe(20u);
        built.MaximumPoolSize.ShouldBe(50u);
        built.ConnectionLifeTime.ShouldBe(600u);
        // No reset round trip per checkout; LostConnections replaces a connection that turns out dead.
        built.ConnectionReset.ShouldBeFalse();
        built.ConnectionTimeout.ShouldBe(60u);
        built.DefaultCommandTimeout.ShouldBe(60u);
        built.CharacterSet.ShouldBe("utf8mb4");
    }

    [Fact(Timeout = 60_000)]
    public async Task Storage_UsesPoolSettingsFromConfiguration_WhenEnvironmentOverridesThem()
    {
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
            StorageFixture.Configure(web, storage.RuntimeConnectionString, storage.Broker, new Dictionary<string, string?>
            {
                ["Database:MinPoolSize"] = "2",
                ["Database:MaxPoolSize"] = "7",
                ["Database:ConnectionLifetimeSeconds"] = "120",
                ["Database:ConnectionIdleTimeoutSeconds"] = "30",
                ["Database:ValidateOnCheckout"] = "true",
                ["Database:ConnectTimeoutSeconds"] = "5",
                ["Database:CommandTimeoutSeconds"] = "9",
            }));

        var contexts = factory.Services.GetRequiredService<IDbContextFactory<NewsDbContext>>();
        await using var db = await contexts.CreateDbContextAsync(TestContext.Current.CancellationToken);
        var used = new MySqlConnectionStringBuilder(db.Database.GetConnectionString()!);

        used.MinimumPoolSize.ShouldBe(2u);
        used.MaximumPoolSize.ShouldBe(7u);
        used.ConnectionLifeTime.ShouldBe(120u);
        used.ConnectionIdleTimeout.ShouldBe(30u);
        used.ConnectionReset.ShouldBeTrue();
        used.ConnectionTimeout.ShouldBe(5u);
        used.DefaultCommandTimeout.ShouldBe(9u);
        db.Database.GetCommandTimeout().ShouldBe(9);
        (await db.Database.CanConnectAsync(TestContext.Current.CancellationToken)).ShouldBeTrue();
    }

    [Fact(Timeout = 60_000)]
    public void Storage_RefusesToStart_WhenPoolSettingsAreInvalid()
    {
        using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
            StorageFixture.Configure(web, storage.RuntimeConnectionString, storage.Broker, new Dictionary<string, string?>
            {
                ["Database:MaxPoolSize"] = "0",
            }));

        var failure = Should.Throw<OptionsValidationException>(() => factory.Services);

        failure.Message.ShouldContain("MaxPoolSize");
    }

    [Fact(Timeout = 60_000)]
    public void Storage_RefusesToStart_WhenBrokerAddressIsNotAmqp()
    {
        using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
            StorageFixture.Configure(web, storage.RuntimeConnectionString, new Uri("http://127.0.0.1:15672/")));

        var failure = Should.Throw<OptionsValidationException>(() => factory.Services);

        failure.Message.ShouldContain("amqp://");
    }
}
