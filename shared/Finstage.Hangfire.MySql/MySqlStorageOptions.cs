namespace Finstage.Hangfire.MySql;

/// <summary>Settings of a <see cref="MySqlStorage"/>: table prefix, polling, invisibility and housekeeping intervals.</summary>
public sealed class MySqlStorageOptions
{
    /// <summary>Prefix of every table name; letters, digits and underscores only.</summary>
    public string TablesPrefix { get; set; } = "hangfire_";

    /// <summary>How long an idle worker waits between two looks at its queues.</summary>
    public TimeSpan QueuePollInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// How long a fetched job stays invisible to other workers without a heartbeat from its holder.
    /// The holder refreshes it while the job runs, so this only bounds how late a crashed worker's job comes back.
    /// </summary>
    public TimeSpan InvisibilityTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often expired jobs, sets, hashes, lists and counters are deleted.</summary>
    public TimeSpan JobExpirationCheckInterval { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How many expired rows one DELETE removes, so housekeeping never holds wide locks.</summary>
    public int JobExpirationBatchSize { get; set; } = 1000;

    /// <summary>How often raw counter rows are folded into the aggregated counter table.</summary>
    public TimeSpan CountersAggregateInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How many raw counter rows one aggregation transaction folds.</summary>
    public int CountersAggregateBatchSize { get; set; } = 1000;

    /// <summary>
    /// Whether the storage creates and upgrades its tables when it is constructed (which needs CREATE and ALTER);
    /// false for a storage whose user may only read and write rows, with the tables installed beforehand by
    /// <see cref="MySqlStorage.InstallSchema"/>.
    /// </summary>
    public bool PrepareSchemaIfNecessary { get; set; } = true;

    /// <summary>How many times a transaction that hit a deadlock (1213) or lock wait timeout (1205) is tried in all.</summary>
    public int DeadlockRetryAttempts { get; set; } = 5;

    /// <summary>
    /// How long the server keeps a distributed lock's session, and the lock, after its holder last spoke. A live holder
    /// speaks every third of it; one cut off by the network (its connection half-open) loses the lock within it, rather
    /// than after the server's <c>wait_timeout</c> (8 hours by default). Whole seconds, from 3 seconds to a day.
    /// </summary>
    public TimeSpan DistributedLockSessionTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How many jobs <c>FetchedJobs</c> and <c>EnqueuedJobs</c> show per queue on the dashboard's queue page.</summary>
    public int DashboardJobListLimit { get; set; } = 5;

    /// <summary>
    /// Issue 18's round-trip levers (docs/decisions/0021). A job's state lock is the job row's lock: on, a state change
    /// is 2 round trips instead of 3 and the server's CPU per job fell 11-12 % in the benchmark. Internal, so that the
    /// benchmark can measure each beside the way before (p5).
    /// </summary>
    internal bool JobLockIsJobRow { get; set; } = true;

    /// <summary>
    /// A fetch in one round trip: off, as measured it costs the server more than the round trip it saves
    /// (docs/decisions/0021); kept so that the benchmark keeps measuring it.
    /// </summary>
    internal bool FetchInOneRoundTrip { get; set; }

    /// <summary>
    /// The fetch takes the fetched job's state lock in its own round trip (docs/decisions/0025): the worker's state change to
    /// Processing then finds it held, and a job takes 4 round trips to perform instead of 6. Off: measured beside the
    /// storage without it, it cost more CPU per job, not less (its round trip carries more statements, and a fetch that
    /// finds nothing pays them too); kept so that the benchmark keeps measuring it. Needs <see cref="JobLockIsJobRow"/>.
    /// </summary>
    internal bool FetchTakesJobLock { get; set; }

    internal void Validate()
    {
        if (string.IsNullOrEmpty(TablesPrefix) || !TablesPrefix.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
        {
            throw new ArgumentException("TablesPrefix must be letters, digits and underscores.", nameof(TablesPrefix));
        }

        if (TablesPrefix.Length > 40)
        {
            throw new ArgumentException("TablesPrefix must be at most 40 characters.", nameof(TablesPrefix));
        }

        Positive(QueuePollInterval, nameof(QueuePollInterval));
        Positive(InvisibilityTimeout, nameof(InvisibilityTimeout));
        Positive(JobExpirationCheckInterval, nameof(JobExpirationCheckInterval));
        Positive(CountersAggregateInterval, nameof(CountersAggregateInterval));
        // A heartbeat every second is as often as it is worth; a day is far past the server's own default of 8 hours
        // (and a third of it is well inside what a Timer's period may be).
        ArgumentOutOfRangeException.ThrowIfLessThan(DistributedLockSessionTimeout, TimeSpan.FromSeconds(3), nameof(DistributedLockSessionTimeout));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(DistributedLockSessionTimeout, TimeSpan.FromDays(1), nameof(DistributedLockSessionTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(JobExpirationBatchSize, 1, nameof(JobExpirationBatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(CountersAggregateBatchSize, 1, nameof(CountersAggregateBatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(DeadlockRetryAttempts, 1, nameof(DeadlockRetryAttempts));
    }

    private static void Positive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, value, "Must be positive.");
        }
    }
}
