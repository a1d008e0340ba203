using System.Diagnostics;
using System.Globalization;

namespace Finstage.Bench;

/// <summary>CPU time over one phase of a figure: this process's, the database server's and the whole machine's.</summary>
public sealed record CpuUse(TimeSpan Elapsed, double ProcessSeconds, double? DatabaseSeconds, double MachineBusySeconds)
{
    /// <summary>Cores kept busy by everything else on the machine (other engineers' builds, the broker, …).</summary>
    public double OtherCores => (MachineBusySeconds - ProcessSeconds - (DatabaseSeconds ?? 0)) / Elapsed.TotalSeconds;

    public double MachineBusyPercent => 100 * MachineBusySeconds / (Elapsed.TotalSeconds * Environment.ProcessorCount);
}

/// <summary>
/// Reads CPU time from /proc: where the time of a phase went on a machine shared with others. The
/// database server is measured when it runs on this machine (its pid file is readable); else null.
/// </summary>
public sealed class CpuMeter
{
    // /proc counts in clock ticks, 100 a second on Linux.
    private const double TicksPerSecond = 100;

    private readonly int? _databasePid;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly TimeSpan _process = Process.GetCurrentProcess().TotalProcessorTime;
    private readonly long? _database;
    private readonly long? _machineBusy;

    private CpuMeter(int? databasePid)
    {
        _databasePid = databasePid;
        _database = ProcessTicks(databasePid);
        _machineBusy = MachineBusyTicks();
    }

    /// <summary>Starts a phase; <paramref name="databasePid"/> from <see cref="FindDatabasePidAsync"/>.</summary>
    public static CpuMeter Start(int? databasePid) => new(databasePid);

    /// <summary>The MariaDB server's pid, from its pid file, when it runs on this machine.</summary>
    public static async Task<int?> FindDatabasePidAsync(string connectionString, CancellationToken ct)
    {
        try
        {
            await using var connection = new MySqlConnector.MySqlConnection(connectionString);
            await connection.OpenAsync(ct);
            await using var command = new MySqlConnector.MySqlCommand("SELECT @@pid_file", connection);
            var file = Convert.ToString(await command.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
            return file is not null && File.Exists(file) && int.TryParse((await File.ReadAllTextAsync(file, ct)).Trim(), CultureInfo.InvariantCulture, out var pid)
                && File.Exists($"/proc/{pid}/stat")
                ? pid
                : null;
        }
        catch (Exception error) when (error is MySqlConnector.MySqlException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// CPU of a peer server over a phase (Redis, PostgreSQL): the processes <paramref name="pids"/> finds at the end,
    /// less what the same processes had used at the start (a PostgreSQL backend that started in between counts whole).
    /// </summary>
    public static Func<double> StartServers(Func<IReadOnlyCollection<int>> pids)
    {
        var before = pids().ToDictionary(pid => pid, pid => ProcessTicks(pid) ?? 0);
        return () => pids().Sum(pid => (ProcessTicks(pid) ?? 0) - before.GetValueOrDefault(pid)) / TicksPerSecond;
    }

    /// <summary>The pid in the first line of a pid file (PostgreSQL's postmaster.pid), when readable.</summary>
    public static int? PidFromFile(string file)
    {
        try
        {
            return File.Exists(file) && int.TryParse(File.ReadLines(file).FirstOrDefault()?.Trim(), CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Process <paramref name="parent"/> and its children (a PostgreSQL postmaster and its backends).</summary>
    public static IReadOnlyCollection<int> WithChildren(int parent)
    {
        var pids = new List<int> { parent };
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }
            try
            {
                var stat = File.ReadAllText(Path.Combine(folder, "stat"));
                // Field 4 (the parent's pid) is the second after the command name in parentheses.
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], CultureInfo.InvariantCulture) == parent)
                {
                    pids.Add(pid);
                }
            }
            catch (IOException)
            {
                // The process ended while the folder was read.
            }
        }
        return pids;
    }

    public CpuUse Stop()
    {
        var elapsed = _clock.Elapsed;
        var process = (Process.GetCurrentProcess().TotalProcessorTime - _process).TotalSeconds;
        var database = ProcessTicks(_databasePid) - _database;
        var machine = MachineBusyTicks() - _machineBusy;
        return new CpuUse(elapsed, process, database / TicksPerSecond, (machine ?? 0) / TicksPerSecond);
    }

    // utime + stime: fields 14 and 15 of /proc/PID/stat, counted after the command name in parentheses.
    private static long? ProcessTicks(int? pid)
    {
        try
        {
            if (pid is null)
            {
                return null;
            }
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null;
        }
    }

    // The first line of /proc/stat: every core's ticks by state; idle and iowait are the fourth and fifth.
    private static long? MachineBusyTicks()
    {
        if (!File.Exists("/proc/stat"))
        {
            return null;
        }
        var ticks = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(value => long.Parse(value, CultureInfo.InvariantCulture)).ToArray();
        // guest time is already counted in user time.
        return ticks.Take(8).Sum() - ticks[3] - ticks[4];
    }
}
