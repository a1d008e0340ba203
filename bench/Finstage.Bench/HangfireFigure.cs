using System.Collections.Concurrent;
using System.Diagnostics;
using Finstage.Hangfire.MySql;
using Finstage.Testing;
using Hangfire;
using Hangfire.InMemory;
using Hangfire.Logging.LogProviders;

namespace Finstage.Bench;

/// <summary>
/// p5: no-op jobs enqueued and performed per second on Finstage.Hangfire.MySql against
/// Hangfire.InMemory (same worker count, the scheduler's 4), and the median pickup delay on an
/// idle MySQL-backed server with the scheduler's 200 ms queue poll interval.
/// </summary>
public static class HangfireFigure
{
    public static async Task RunAsync(BenchSettings settings, Report report, CancellationToken ct)
    {
        // An earlier figure's scheduler host left Hangfire's process-wide log provider pointing at its disposed logger factory.
        GlobalConfiguration.Configuration.UseLogProvider(new ColouredConsoleLogProvider(global::Hangfire.Logging.LogLevel.Warn));
        var database = await TestServers.CreateDatabaseAsync("finstage_bench_hangfire", ct);
        using var mysql = new MySqlStorage(database, new MySqlStorageOptions { TablesPrefix = "hangfire_", QueuePollInterval = TimeSpan.FromMilliseconds(200) });
        using var memory = new InMemoryStorage();

        // Alternating rounds, each MySQL round right after an InMemory one: the ratio is the median of the pairs' ratios,
        // so a machine that speeds up or slows down between rounds (it is shared, and InMemory alone moves 2-5x between
        // runs) moves both sides of a pair alike. CPU is counted over the MySQL rounds only.
        var databasePid = await CpuMeter.FindDatabasePidAsync(TestServers.MySqlAdmin, ct);
        var pairs = new List<(double Memory, double MySql)>();
        var memoryCpu = 0.0;
        var mysqlCpu = (Process: 0.0, Database: 0.0, BusyPercent: 0.0);
        for (var round = 0; round < Rounds; round++)
        {
            var memoryMeter = CpuMeter.Start(databasePid);
            var memoryRate = await ThroughputAsync(memory, settings.HangfireJobs, ct);
            memoryCpu += memoryMeter.Stop().ProcessSeconds;
            var meter = CpuMeter.Start(databasePid);
            var mysqlRate = await ThroughputAsync(mysql, settings.HangfireJobs, ct);
            var cpu = meter.Stop();
            mysqlCpu = (mysqlCpu.Process + cpu.ProcessSeconds, mysqlCpu.Database + (cpu.DatabaseSeconds ?? double.NaN), mysqlCpu.BusyPercent + cpu.MachineBusyPercent / Rounds);
            pairs.Add((memoryRate, mysqlRate));
        }

        var jobsRun = (double)settings.HangfireJobs * Rounds;
        // Where the time goes per job: this process (Hangfire, the storage's code, the driver) and the server.
        report.Raw("p5_inmemory_cpu_ms_per_job", 1000 * memoryCpu / jobsRun);
        report.Raw("p5_mysql_cpu_ms_per_job_process", 1000 * mysqlCpu.Process / jobsRun);
        report.Raw("p5_mysql_cpu_ms_per_job_db", 1000 * mysqlCpu.Database / jobsRun);
        report.Raw("p5_mysql_machine_busy_pct", mysqlCpu.BusyPercent);
        // Where the time goes: enqueueing alone (no server), then performing a full queue alone.
        var (enqueue, perform) = await SplitAsync(mysql, settings.HangfireJobs, database, databasePid, report, ct);
        report.Raw("p5_mysql_enqueue_only_per_s", enqueue);
        report.Raw("p5_mysql_perform_only_per_s", perform);
        var pickups = await PickupAsync(mysql, settings.PickupSamples, ct);
        var memoryPickups = await PickupAsync(memory, Math.Min(settings.PickupSamples, 7), ct);

        report.Raw("p5_mysql_deadlock_retries", DeadlockRetries(mysql));
        report.Raw("p5_inmemory_jobs_per_s", Median(pairs.Select(p => p.Memory)));
        report.Raw("p5_mysql_jobs_per_s", Median(pairs.Select(p => p.MySql)));
        report.Raw("p5_pickup_p90_ms", Measure.Percentile(pickups, 90));
        report.Raw("p5_inmemory_pickup_ms", Measure.Percentile(memoryPickups, 50));
        report.Figure("p5_hangfire_vs_inmemory", Median(pairs.Select(p => p.MySql / p.Memory)));
        report.Figure("p5_pickup_ms", Measure.Percentile(pickups, 50));
    }

    private const int Rounds = 3;

    private static double Median(IEnumerable<double> values) => Measure.Percentile([.. values], 50);

    private static async Task<double> ThroughputAsync(JobStorage storage, int jobs, CancellationToken ct)
    {
        var client = new BackgroundJobClient(storage);
        using var server = Server(storage);
        // Warm-up: the schema, connections and the job's types.
        var start = NoopJob.Performed;
        for (var i = 0; i < 20; i++)
        {
            client.Enqueue(() => NoopJob.Run(0));
        }
        await Measure.UntilAsync(() => Task.FromResult(NoopJob.Performed), start + 20, Stopwatch.StartNew(), TimeSpan.FromSeconds(60), "warm-up jobs", ct);

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

    private static async Task<(double Enqueue, double Perform)> SplitAsync(JobStorage storage, int jobs, string database, int? databasePid, Report report, CancellationToken ct)
    {
        var client = new BackgroundJobClient(storage);
        var start = NoopJob.Performed;
        var before = await CountersAsync(database, ct);
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
        var between = await CountersAsync(database, ct);
        meter = CpuMeter.Start(databasePid);
        clock.Restart();
        using var server = Server(storage);
        var performed = await Measure.UntilAsync(
            () => Task.FromResult(NoopJob.Performed), start + jobs, clock, TimeSpan.FromSeconds(300), "every queued job performed", ct, pollMs: 5);
        var performCpu = meter.Stop();
        // Wait for the last state changes to land before reading the counters again.
        await Task.Delay(500, ct);
        var after = await CountersAsync(database, ct);
        server.SendStop();
        report.Raw("p5_mysql_statements_per_enqueue", (between.Statements - before.Statements) / (double)jobs);
        report.Raw("p5_mysql_commits_per_enqueue", (between.Commits - before.Commits) / (double)jobs);
        report.Raw("p5_mysql_statements_per_perform", (after.Statements - between.Statements) / (double)jobs);
        report.Raw("p5_mysql_commits_per_perform", (after.Commits - between.Commits) / (double)jobs);
        report.Raw("p5_mysql_enqueue_cpu_ms_process", 1000 * enqueueCpu.ProcessSeconds / jobs);
        report.Raw("p5_mysql_enqueue_cpu_ms_db", 1000 * (enqueueCpu.DatabaseSeconds ?? double.NaN) / jobs);
        report.Raw("p5_mysql_perform_cpu_ms_process", 1000 * performCpu.ProcessSeconds / jobs);
        report.Raw("p5_mysql_perform_cpu_ms_db", 1000 * (performCpu.DatabaseSeconds ?? double.NaN) / jobs);
        return (jobs / enqueued.TotalSeconds, jobs / performed.TotalSeconds);
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
