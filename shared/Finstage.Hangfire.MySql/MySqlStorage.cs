using Hangfire;
using Hangfire.Logging;
using Hangfire.Server;
using Hangfire.Storage;
using MySqlConnector;

namespace Finstage.Hangfire.MySql;

/// <summary>A Hangfire 1.8 job storage on MySQL 8 or MariaDB 10.6+, over MySqlConnector.</summary>
public sealed class MySqlStorage : JobStorage, IDisposable
{
    private readonly bool _ownsDataSource;

    /// <summary>
    /// Creates the storage over a connection string; the tables are created or upgraded unless the options say not to.
    /// Its pool lends sessions without resetting them (<c>ConnectionReset=false</c>) unless the string says otherwise.
    /// </summary>
    public MySqlStorage(string connectionString, MySqlStorageOptions? options = null)
        : this(new MySqlDataSource(Db.WithoutConnectionReset(connectionString)), options, ownsDataSource: true)
    {
    }

    /// <summary>
    /// Creates the storage over a data source that a service collection already holds (for example one registered
    /// with <c>AddMySqlDataSource</c>), so that the storage and the rest of the service share one pool. With the
    /// driver's default <c>ConnectionReset=true</c> every call pays a reset round trip; the storage needs no reset.
    /// </summary>
    public MySqlStorage(MySqlDataSource dataSource, MySqlStorageOptions? options = null)
        : this(dataSource, options, ownsDataSource: false)
    {
    }

    private MySqlStorage(MySqlDataSource dataSource, MySqlStorageOptions? options, bool ownsDataSource)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        Options = options ?? new MySqlStorageOptions();
        Options.Validate();
        _ownsDataSource = ownsDataSource;
        Db = new Db(dataSource, Options.TablesPrefix, Options.DeadlockRetryAttempts);
        if (Options.PrepareSchemaIfNecessary)
        {
            MySqlSchema.Install(Db);
        }
    }

    /// <summary>The version of the tables this build of the storage reads and writes.</summary>
    public const int SchemaVersion = MySqlSchema.CurrentVersion;

    /// <summary>
    /// Creates or upgrades the tables under the options' prefix, as a storage with <see cref="MySqlStorageOptions.PrepareSchemaIfNecessary"/>
    /// does when it starts; idempotent, and safe to run from several processes at once. This is the step to run with a user that
    /// may change the schema, so that the storage itself can run as one that may only read and write rows.
    /// </summary>
    public static void InstallSchema(string connectionString, MySqlStorageOptions? options = null) =>
        WithDb(connectionString, options, MySqlSchema.Install);

    /// <summary>The version of the tables installed under the options' prefix: 0 when there are none, <see cref="SchemaVersion"/> when current.</summary>
    public static int GetInstalledSchemaVersion(string connectionString, MySqlStorageOptions? options = null)
    {
        var version = 0;
        WithDb(connectionString, options, db => version = MySqlSchema.InstalledVersion(db));
        return version;
    }

    private static void WithDb(string connectionString, MySqlStorageOptions? options, Action<Db> action)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        options ??= new MySqlStorageOptions();
        options.Validate();
        using var dataSource = new MySqlDataSource(connectionString);
        action(new Db(dataSource, options.TablesPrefix, options.DeadlockRetryAttempts));
    }

    /// <summary>The options the storage was built with.</summary>
    public MySqlStorageOptions Options { get; }

    internal Db Db { get; }

    /// <summary>Wakes this process's idle workers when this process enqueues.</summary>
    internal QueueSignal Signal { get; } = new();

    /// <inheritdoc />
    public override bool LinearizableReads => true;

    /// <inheritdoc />
    public override IMonitoringApi GetMonitoringApi() => new MySqlMonitoringApi(Db, Options.DashboardJobListLimit);

    /// <inheritdoc />
    public override IStorageConnection GetConnection() => new MySqlStorageConnection(this);

    /// <inheritdoc />
    public override IEnumerable<IBackgroundProcess> GetStorageWideProcesses() =>
    [
        new ExpirationManager(Db, Options.JobExpirationCheckInterval, Options.JobExpirationBatchSize),
        new CountersAggregator(Db, Options.CountersAggregateInterval, Options.CountersAggregateBatchSize),
    ];

    /// <inheritdoc />
    public override bool HasFeature(string featureId)
    {
        ArgumentNullException.ThrowIfNull(featureId);
        return featureId == JobStorageFeatures.ExtendedApi
            || featureId == JobStorageFeatures.ProcessesInsteadOfComponents
            || featureId == JobStorageFeatures.JobQueueProperty
            || featureId == JobStorageFeatures.Connection.GetUtcDateTime
            || featureId == JobStorageFeatures.Connection.GetSetContains
            || featureId == JobStorageFeatures.Connection.LimitedGetSetCount
            || featureId == JobStorageFeatures.Connection.BatchedGetFirstByLowest
            || featureId == JobStorageFeatures.Transaction.SetJobParameter
            || featureId == JobStorageFeatures.Transaction.RemoveFromQueue(typeof(MySqlFetchedJob))
            || featureId == JobStorageFeatures.Monitoring.DeletedStateGraphs
            || featureId == JobStorageFeatures.Monitoring.AwaitingJobs
            || base.HasFeature(featureId);
    }

    /// <inheritdoc />
    public override void WriteOptionsToLog(ILog logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        logger.Info($"Using MySQL job storage: tables prefix '{Options.TablesPrefix}', queue poll interval {Options.QueuePollInterval}, " +
                    $"invisibility timeout {Options.InvisibilityTimeout} (sliding), expiration check every {Options.JobExpirationCheckInterval}, " +
                    $"counters aggregated every {Options.CountersAggregateInterval}.");
    }

    /// <inheritdoc />
    public override string ToString() => $"MySQL storage ({Options.TablesPrefix}*)";

    /// <summary>Disposes the data source when the storage created it.</summary>
    public void Dispose()
    {
        if (_ownsDataSource)
        {
            Db.DataSource.Dispose();
        }
    }
}
