using System.Diagnostics;
using System.Globalization;
using Finstage.Testing;

namespace Finstage.Bench;

/// <summary>
/// p8, storage: articles per second stored by two storage processes against one, competing for one queue on one
/// database, with p4's workload (crawl results of 20 articles, half of them new: every batch writes outbox events
/// and so takes the outbox's sequence lock). Beside it, where the time went: the storages' CPU, MariaDB's, the rest
/// of the machine's, the time batches waited for row locks (the sequence lock among them) and the load average, so
/// the figure says what bounds it on the machine it ran on.
/// </summary>
public static class StorageScaleFigure
{
    public static async Task RunAsync(BenchSettings settings, Report report, CancellationToken ct)
    {
        var databasePid = await CpuMeter.FindDatabasePidAsync(TestServers.MySqlAdmin, ct);
        // One then two, twice over: the machine is shared, and alternating spreads whatever else runs over both.
        var rates = new Dictionary<int, List<double>> { [1] = [], [2] = [] };
        foreach (var instances in settings.Quick ? new[] { 1, 2 } : [1, 2, 1, 2])
        {
            var round = rates[instances].Count + 1;
            rates[instances].Add(await IngestWithAsync(instances, round, settings, databasePid, report, ct));
        }
        var one = rates[1].Average();
        var two = rates[2].Average();
        report.Raw("p8_storage_articles_per_s_1_storage", one);
        report.Raw("p8_storage_articles_per_s_2_storages", two);
        report.Figure("p8_two_storages_vs_one", two / one);
    }

    private static async Task<double> IngestWithAsync(
        int instances, int round, BenchSettings settings, int? databasePid, Report report, CancellationToken ct)
    {
        var m = settings.IngestMessages;
        var perMessage = settings.ArticlesPerMessage;
        var home = await MigratedStorage.CreateAsync($"finstage_bench_p8_storage_{instances}", $"finstage-bench-p8-storage-{instances}", ct);
        var storages = new List<ServiceProcess>();
        try
        {
            storages.AddRange(await Task.WhenAll(Enumerable.Range(0, instances).Select(i => home.StartAsync(ct, name: $"storage{i + 1}"))));
            await using var publisher = await BenchBus.StartAsync(home.VirtualHost);
            Task<long> Runs() => Measure.ScalarAsync(home.Database, "SELECT COUNT(*) FROM `crawl_runs`", ct);

            // Warm-up on other symbols (JIT, pools), then the seeded half of the measured articles, untimed.
            await PublishAllAsync(publisher, IngestFigure.Messages(m / 4, perMessage / 2, "W"), ct);
            await PublishAllAsync(publisher, IngestFigure.Messages(m / 4, perMessage, "W"), ct);
            await PublishAllAsync(publisher, IngestFigure.Messages(m, perMessage / 2), ct);
            await Measure.UntilAsync(Runs, 2L * (m / 4) + m, Stopwatch.StartNew(), TimeSpan.FromMinutes(10), "the warm-up and seeded crawl runs", ct);

            var measured = IngestFigure.Messages(m, perMessage);
            var before = await StatusAsync(ct);
            var storageCpu = CpuMeter.StartServers(() => [.. storages.Select(storage => storage.Id)]);
            var cpu = CpuMeter.Start(databasePid);
            var clock = Stopwatch.StartNew();
            await PublishAllAsync(publisher, measured, ct);
            var elapsed = await Measure.UntilAsync(Runs, 2L * (m / 4) + 2L * m, clock, TimeSpan.FromMinutes(10), "the measured crawl runs", ct);
            var use = cpu.Stop();
            var storageSeconds = storageCpu();
            var after = await StatusAsync(ct);
            var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";

            var rate = m * perMessage / elapsed.TotalSeconds;
            var seconds = elapsed.TotalSeconds;
            var key = $"p8_storage_{instances}_storage{(instances == 1 ? "" : "s")}_round{round}";
            report.Raw($"{key}_articles_per_s", rate);
            report.Raw($"{key}_storage_cpu_cores", storageSeconds / seconds);
            report.Raw($"{key}_mariadb_cpu_cores", (use.DatabaseSeconds ?? double.NaN) / seconds);
            report.Raw($"{key}_bench_cpu_cores", use.ProcessSeconds / seconds);
            report.Raw($"{key}_other_cpu_cores", use.OtherCores - storageSeconds / seconds);
            report.Raw($"{key}_machine_busy_percent", use.MachineBusyPercent);
            // Seconds batches spent waiting for row locks per second of the run: 1 would be one batch always waiting.
            report.Raw($"{key}_row_lock_wait_per_s", (after.LockTimeMs - before.LockTimeMs) / 1000.0 / seconds);
            report.Raw($"{key}_row_lock_waits", after.LockWaits - before.LockWaits);
            report.Raw($"{key}_deadlocks", after.Deadlocks - before.Deadlocks);
            report.Raw($"{key}_load_average_1m", double.Parse(load, CultureInfo.InvariantCulture));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    {instances} storage(s), round {round}: {m * perMessage} articles in {seconds:0.0} s = {rate:0}/s; load {load}"));
            foreach (var storage in storages)
            {
                if (storage.HasExited)
                {
                    throw new InvalidOperationException($"{storage.Name} exited: {storage.OutputTail}");
                }
            }
            return rate;
        }
        finally
        {
            foreach (var storage in storages)
            {
                await storage.DisposeAsync();
            }
        }
    }

    private static Task PublishAllAsync(BenchBus bus, IReadOnlyList<Finstage.Contracts.NewsCrawled> messages, CancellationToken ct) =>
        Task.WhenAll(messages.Select(message => bus.Bus.Publish(message, ct)));

    private static async Task<(long LockTimeMs, long LockWaits, long Deadlocks)> StatusAsync(CancellationToken ct)
    {
        await using var connection = new MySqlConnector.MySqlConnection(TestServers.MySqlAdmin);
        await connection.OpenAsync(ct);
        await using var command = new MySqlConnector.MySqlCommand(
            "SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_row_lock_time', 'Innodb_row_lock_waits', 'Innodb_deadlocks')", connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var values = new Dictionary<string, long>(StringComparer.OrdinalIgnoreCase);
        while (await reader.ReadAsync(ct))
        {
            values[reader.GetString(0)] = long.Parse(reader.GetString(1), CultureInfo.InvariantCulture);
        }
        return (values["Innodb_row_lock_time"], values["Innodb_row_lock_waits"], values["Innodb_deadlocks"]);
    }
}
