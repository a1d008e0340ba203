using Hangfire;
using MySqlConnector;

namespace Finstage.Hangfire.MySql;

/// <summary>Registers <see cref="MySqlStorage"/> as Hangfire's storage.</summary>
public static class MySqlStorageExtensions
{
    /// <summary>Uses a MySQL storage over the given connection string, e.g. <c>GlobalConfiguration.Configuration.UseMySqlStorage(cs, options)</c>.</summary>
    public static IGlobalConfiguration<MySqlStorage> UseMySqlStorage(
        this IGlobalConfiguration configuration, string connectionString, MySqlStorageOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return configuration.UseStorage(new MySqlStorage(connectionString, options));
    }

    /// <summary>Uses a MySQL storage over a data source the service collection holds.</summary>
    public static IGlobalConfiguration<MySqlStorage> UseMySqlStorage(
        this IGlobalConfiguration configuration, MySqlDataSource dataSource, MySqlStorageOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return configuration.UseStorage(new MySqlStorage(dataSource, options));
    }
}
