using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Finstage.Hangfire.MySql;
using Finstage.Testing;
using Hangfire;
using Hangfire.InMemory;
using Hangfire.Logging.LogProviders;

namespace Finstage.Bench;

/// <summary>
/// p5: no-op jobs enqueued and performed per second on Finstage.Hangfire.MySql against the storages a user
/// would pick instead (Hangfire.Redis.StackExchange on Redis, Hangfire.PostgreSql on PostgreSQL) and
/// Hangfire.InMemory (kept in raw: it keeps nothing), same worker count (the scheduler's 4); and the median
/// pickup delay on an idle server with the scheduler's 200 ms queue poll interval.
/// </summary>
public static class HangfireFigure
{
    public static async Task RunAsync(BenchSettings settings, Report report, CancellationToken ct)
    {
        // An earlier figure's scheduler host left Hangfire's process-wide log provider pointing at its disposed logger factory.
        GlobalConfiguration.Configuration.UseLogProvider(new ColouredConsoleLogProvider(global::Hangfire.Logging.LogLevel.Warn));
        var database = await TestServers.CreateDatabaseAsync("finstage_bench_hangfire", ct);
        // As the scheduler configures it: its defaults (the job lock as the job row's lock, docs/decisions/0021; the fetch in
        // two round trips).
        using var mysql = new MySqlStorage(database, new MySqlStorageOptions { TablesPrefix = "hangfire_", QueuePollInterval = TimeSpan.FromMilliseconds(200) });
        // Beside it in every round, under the same load: the storage without issue 18's levers, and with the fetch taking
        // the job's lock (docs/decisions/0025, off by default). FINSTAGE_BENCH_P5_LEVERS=1 adds a twin of the default
        // storage on tables of its own: how far two identical contenders read apart in one run.
        using var before = Variant(database, "hangfire_before_", jobRow: false, fetchLock: false);
        using var fetchLock = Variant(database, "hangfire_fetchlock_", jobRow: true, fetchLock: true);
        var twin = Environment.GetEnvironmentVariable("FINSTAGE_BENCH_P5_LEVERS") == "1";
        using var mysqlTwin = twin ? Variant(database, "hangfire_twin_", jobRow: true, fetchLock: false) : null;
        using var memory = new InMemoryStorage();
        await using var peers = await HangfirePeers.StartAsync(ct);

        // Alternating rounds: each round runs every storage, in the opposite order to the round before, and a
        // ratio is the median of the rounds' ratios, so a machine that speeds up or slows down between rounds
        // (it is shared, and InMemory alone moves 2-5x between runs) moves both sides of a ratio alike.
        var databasePid = await CpuMeter.FindDatabasePidAsync(TestServers.MySqlAdmin, ct);
        var contenders = new (string Name, JobStorage Storage, Func<IReadOnlyCollection<int>> ServerPids)[]
        {
            ("mysql", mysql, () => databasePid is { } pid ? [pid] : []),
            ("redis", peers.Redis, peers.RedisPids),
            ("postgresql", peers.PostgreSql, peers.PostgreSqlPids),
            ("inmemory", memory, () => []),
            ("mysql_before", before, () => databasePid is { } pid ? [pid] : []),
            ("mysql_fetchlock", fetchLock, () => databasePid is { } pid ? [pid] : []),
        };
        if (mysqlTwin is not null)
        {
            contenders = [.. contenders, ("mysql_twin", mysqlTwin, contenders[0].ServerPids)];
        }
        var rates = contenders.ToDictionary(c => c.Name, _ => new List<double>());
        var cpu = contenders.ToDictionary(c => c.Name, _ => (Process: 0.0, Server: 0.0));
        // What each job costs the server in requests: statements (MariaDB's Questions) or commands (Redis's), per job run.
        var requests = contenders.ToDictionary(c => c.Name, _ => 0L);
        var rounds = new List<Dictionary<string, double>>();
        // Warm-up rounds first, not counted, until the runtime has stopped recompiling (Measure.WarmUpAsync): the code
        // every storage shares (Hangfire's worker, the client, the driver of its kind) is compiled to its fast tier while
        // the first contender runs, and the compiler's background thread competes for the same two cores; after a single
        // round the first slot of the first measured round still read up to 2x slower.
        var warmUps = await Measure.WarmUpAsync(
            async _ =>
            {
                foreach (var (_, storage, _) in contenders)
                {
                    await ThroughputAsync(storage, Math.Min(settings.HangfireJobs, 500), ct);
                }
            },
            maxRounds: 5);
        report.Raw("p5_warm_up_rounds", warmUps);

        for (var round = 0; round < Rounds; round++)
        {
            var rate = new Dictionary<string, double>();
            foreach (var (name, storage, serverPids) in round % 2 == 0 ? contenders : contenders.Reverse())
            {
                var requestsBefore = await ServerRequestsAsync(name, database, peers, ct);
                var meter = CpuMeter.Start(null);
                var server = CpuMeter.StartServers(serverPids);
                rate[name] = await ThroughputAsync(storage, settings.HangfireJobs, ct);
                var used = meter.Stop();
                cpu[name] = (cpu[name].Process + used.ProcessSeconds, cpu[name].Server + server());
                requests[name] += await ServerRequestsAsync(name, database, peers, ct) - requestsBefore;
                rates[name].Add(rate[name]);
            }
            rounds.Add(rate);
            Console.WriteLine($"    round {round + 1}: " + string.Join(", ", rate.Select(pair => string.Create(CultureInfo.InvariantCulture, $"{pair.Key} {pair.Value:0}/s"))));
        }

        var jobsRun = (double)settings.HangfireJobs * Rounds;
        foreach (var (name, _, _) in contenders)
        {
            report.Raw($"p5_{name}_jobs_per_s", Median(rates[name]));
            if (name.StartsWith("mysql", StringComparison.Ordinal) || name == "redis")
            {
                // Each round also runs 20 warm-up jobs.
                report.Raw($"p5_{name}_server_requests_per_job", requests[name] / ((settings.HangfireJobs + WarmUpJobs) * (double)Rounds));
            }
            // Where the time goes per job: this process (Hangfire, the storage's code, the driver) and the server.
            report.Raw($"p5_{name}_cpu_ms_per_job_process", 1000 * cpu[name].Process / jobsRun);
            if (name != "inmemory")
            {
                report.Raw($"p5_{name}_cpu_ms_per_job_server", 1000 * cpu[name].Server / jobsRun);
            }
        }
        report.Raw("p5_hangfire_vs_inmemory", Median(rounds.Select(r => r["mysql"] / r["inmemory"])));
        report.Raw("p5_levers_vs_before", Median(rounds.Select(r => r["mysql"] / r["mysql_before"])));
        report.Raw("p5_fetchlock_vs_mysql", Median(rounds.Select(r => r["mysql_fetchlock"] / r["mysql"])));
        report.Raw("p5_fetchlock_vs_redis", Median(rounds.Select(r => r["mysql_fetchlock"] / r["redis"])));
        report.Raw("p5_cpu_fetchlock_vs_mysql", CpuPerJob("mysql_fetchlock") / CpuPerJob("mysql"));
        if (mysqlTwin is not null)
        {
            report.Raw("p5_twin_vs_mysql", Median(rounds.Select(r => r["mysql_twin"] / r["mysql"])));
            report.Raw("p5_cpu_twin_vs_mysql", CpuPerJob("mysql_twin") / CpuPerJob("mysql"));
        }
        report.Raw("p5_before_vs_redis", Median(rounds.Select(r => r["mysql_before"] / r["redis"])));
        // The same comparison by CPU (this process and the server together, per job), which a shared machine moves less
        // than wall time: above 1 where ours spends less per job than the peer.
        double CpuPerJob(string name) => (cpu[name].Process + cpu[name].Server) / jobsRun;
        report.Raw("p5_cpu_redis_vs_mysql", CpuPerJob("redis") / CpuPerJob("mysql"));
        report.Raw("p5_cpu_postgresql_vs_mysql", CpuPerJob("postgresql") / CpuPerJob("mysql"));
        // Where the time goes: enqueueing alone (no server), then performing a full queue alone; without and with the fetch
        // taking the job's lock.
        var (enqueue, perform) = await SplitAsync("mysql", mysql, settings.HangfireJobs, database, databasePid, report, ct);
        report.Raw("p5_mysql_enqueue_only_per_s", enqueue);
        report.Raw("p5_mysql_perform_only_per_s", perform);
        (enqueue, perform) = await SplitAsync("mysql_fetchlock", fetchLock, settings.HangfireJobs, database, databasePid, report, ct);
        report.Raw("p5_mysql_fetchlock_enqueue_only_per_s", enqueue);
        report.Raw("p5_mysql_fetchlock_perform_only_per_s", perform);
        var pickups = await PickupAsync(mysql, settings.PickupSamples, ct);
        foreach (var (name, storage, _) in contenders.Skip(1).Where(c => c.Name is "redis" or "postgresql" or "inmemory"))
        {
            report.Raw($"p5_{name}_pickup_ms", Measure.Percentile(await PickupAsync(storage, Math.Min(settings.PickupSamples, 9), ct), 50));
        }

        report.Raw("p5_mysql_deadlock_retries", DeadlockRetries(mysql));
        report.Raw("p5_pickup_p90_ms", Measure.Percentile(pickups, 90));
        report.Figure("p5_hangfire_vs_redis", Median(rounds.Select(r => r["mysql"] / r["redis"])));
        report.Figure("p5_hangfire_vs_postgresql", Median(rounds.Select(r => r["mysql"] / r["postgresql"])));
        report.Figure("p5_pickup_ms", Measure.Percentile(pickups, 50));
    }

    private const int Rounds = 5;

    private const int WarmUpJobs = 20;

    // Options the storage keeps internal (the levers' switches), set by name: the bench is not one of its friends.
    private static MySqlStorage Variant(string database, string prefix, bool jobRow, bool fetchLock)
    {
        var options = new MySqlStorageOptions { TablesPrefix = prefix, QueuePollInterval = TimeSpan.FromMilliseconds(200) };
        const System.Reflection.BindingFlags Internal = System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic;
        typeof(MySqlStorageOptions).GetProperty("JobLockIsJobRow", Internal)!.SetValue(options, jobRow);
        typeof(MySqlStorageOptions).GetProperty("FetchTakesJobLock", Internal)!.SetValue(options, fetchLock);
        return new MySqlStorage(database, options);
    }

    // The server's request counter: MariaDB's statements (Questions, server-wide: the bench's MariaDB serves only this
    // figure now) or Redis's commands processed; 0 for the others.
    private static async Task<long> ServerRequestsAsync(string contender, string database, HangfirePeers peers, CancellationToken ct)
    {
        if (contender.StartsWith("mysql", StringComparison.Ordinal))
        {
            return (await CountersAsync(database, ct)).Statements;
        }

        return contender == "redis" ? await peers.RedisCommandsAsync() : 0;
    }

    private static double Median(IEnumerable<double> values) => Measure.Percentile([.. values], 50);

    private static async Task<double> ThroughputAsync(JobStorage storage, int jobs, CancellationToken ct)
    {
        var client = new BackgroundJobClient(storage);
        using var server = Server(storage);
        // Warm-up: the schema, connections and the job's types.
        var start = NoopJob.Performed;
        for (var i = 0; i < WarmUpJobs; i++)
        {
            client.Enqueue(() => NoopJob.Run(0));
        }
        await Measure.UntilAsync(() => Task.FromResult(NoopJob.Performed), start + WarmUpJobs, Stopwatch.StartNew(), TimeSpan.FromSeconds(60), "warm-up jobs", ct);

        start = NoopJob.Performed;
        var clock = Stopwatch.StartNew();
        await Task.Run(() =>
        {
            for (var i = 0; i < jobs; i++)
            {
                client.Enqueue(() => NoopJob.Run(0));
            }
        }, ct);
        var elapsed = await Measure.UntilAsync(
            () => Task.FromResult(NoopJob.Performed), start + jobs, clock, TimeSpan.FromSeconds(300), "every job performed", ct, pollMs: 5);
        server.SendStop();
        return jobs / elapsed.TotalSeconds;
    }

    // Transactions the storage re-ran after a deadlock or lock wait timeout (its Db.RetriedCount, internal: read for diagnosis only).
    private static double DeadlockRetries(MySqlStorage storage)
    {
        var db = typeof(MySqlStorage).GetProperty("Db", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)?.GetValue(storage);
        return db?.GetType().GetProperty("RetriedCount")?.GetValue(db) is int count ? count : double.NaN;
    }

    // The scheduler's 4 workers. Its own activator: an earlier figure's scheduler host set Hangfire's
    // process-wide one to its service provider, disposed since, and every job would fail in it.
    private static BackgroundJobServer Server(JobStorage storage) => new(
        new BackgroundJobServerOptions { WorkerCount = 4, ServerName = "bench-" + Guid.NewGuid().ToString("N")[..8], Activator = new JobActivator() },
        storage);

    // The server-wide statement and commit counters around each phase (the bench's servers serve nobody else).
    private static async Task<(long Statements, long Commits)> CountersAsync(string database, CancellationToken ct) =>
        (await Measure.ScalarAsync(database, "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'QUESTIONS'", ct),
         await Measure.ScalarAsync(database, "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'COM_COMMIT'", ct));

    private static async Task<(double Enqueue, double Perform)> SplitAsync(string name, JobStorage storage, int jobs, string database, int? databasePid, Report report, CancellationToken ct)
    {
        var client = new BackgroundJobClient(storage);
        var start = NoopJob.Performed;
        using var roundTrips = new RoundTripCounter();
        var before = await CountersAsync(database, ct);
        var tripsBefore = roundTrips.Count;
        var meter = CpuMeter.Start(databasePid);
        var clock = Stopwatch.StartNew();
        await Task.Run(() =>
        {
            for (var i = 0; i < jobs; i++)
            {
                client.Enqueue(() => NoopJob.Run(0));
            }
        }, ct);
        var enqueued = clock.Elapsed;
        var enqueueCpu = meter.Stop();
        var tripsBetween = roundTrips.Count;
        var between = await CountersAsync(database, ct);
        meter = CpuMeter.Start(databasePid);
        clock.Restart();
        using var server = Server(storage);
        var performed = await Measure.UntilAsync(
            () => Task.FromResult(NoopJob.Performed), start + jobs, clock, TimeSpan.FromSeconds(300), "every queued job performed", ct, pollMs: 5);
        var performCpu = meter.Stop();
        // Wait for the last state changes to land before reading the counters again.
        await Task.Delay(500, ct);
        var tripsAfter = roundTrips.Count;
        var after = await CountersAsync(database, ct);
        server.SendStop();
        report.Raw($"p5_{name}_statements_per_enqueue", (between.Statements - before.Statements) / (double)jobs);
        report.Raw($"p5_{name}_commits_per_enqueue", (between.Commits - before.Commits) / (double)jobs);
        report.Raw($"p5_{name}_statements_per_perform", (after.Statements - between.Statements) / (double)jobs);
        report.Raw($"p5_{name}_commits_per_perform", (after.Commits - between.Commits) / (double)jobs);
        // Round trips this process made to MariaDB (the driver's command executions; a batch is one), per job. The perform
        // phase includes the server's own processes and the workers' idle polls in its last half second: a few in all.
        report.Raw($"p5_{name}_round_trips_per_enqueue", (tripsBetween - tripsBefore) / (double)jobs);
        report.Raw($"p5_{name}_round_trips_per_perform", (tripsAfter - tripsBetween) / (double)jobs);
        report.Raw($"p5_{name}_enqueue_cpu_ms_process", 1000 * enqueueCpu.ProcessSeconds / jobs);
        report.Raw($"p5_{name}_enqueue_cpu_ms_db", 1000 * (enqueueCpu.DatabaseSeconds ?? double.NaN) / jobs);
        report.Raw($"p5_{name}_perform_cpu_ms_process", 1000 * performCpu.ProcessSeconds / jobs);
        report.Raw($"p5_{name}_perform_cpu_ms_db", 1000 * (performCpu.DatabaseSeconds ?? double.NaN) / jobs);
        return (jobs / enqueued.TotalSeconds, jobs / performed.TotalSeconds);
    }

    /// <summary>Counts MySqlConnector's command executions (one per round trip) in this process while it lives.</summary>
    private sealed class RoundTripCounter : IDisposable
    {
        private readonly ActivityListener _listener;
        private long _count;

        public RoundTripCounter()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == "MySqlConnector",
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
                ActivityStarted = activity =>
                {
                    if (activity.OperationName == "Execute")
                    {
                        Interlocked.Increment(ref _count);
                    }
                },
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public long Count => Interlocked.Read(ref _count);

        public void Dispose() => _listener.Dispose();
    }

    private static async Task<List<double>> PickupAsync(JobStorage storage, int samples, CancellationToken ct)
    {
        var client = new BackgroundJobClient(storage);
        using var server = Server(storage);
        NoopJob.Pickups.Clear();
        var random = new Random(7);
        for (var i = 0; i < samples; i++)
        {
            // Idle in between, at a random phase of the workers' polling.
            await Task.Delay(300 + random.Next(300), ct);
            var before = NoopJob.Pickups.Count;
            client.Enqueue(() => NoopJob.Run(Stopwatch.GetTimestamp()));
            await Measure.UntilAsync(() => Task.FromResult((long)NoopJob.Pickups.Count), before + 1, Stopwatch.StartNew(), TimeSpan.FromSeconds(30), "a job to start", ct, pollMs: 5);
        }
        server.SendStop();
        return [.. NoopJob.Pickups];
    }
}

/// <summary>The job the figure runs: it only counts, and notes how long after its enqueue it started.</summary>
public static class NoopJob
{
    private static long s_performed;

    public static long Performed => Interlocked.Read(ref s_performed);

    public static ConcurrentQueue<double> Pickups { get; } = new();

    public static void Run(long enqueuedAt)
    {
        if (enqueuedAt != 0)
        {
            Pickups.Enqueue(Stopwatch.GetElapsedTime(enqueuedAt).TotalMilliseconds);
        }
        Interlocked.Increment(ref s_performed);
    }
}
