using System.Diagnostics;
using System.Globalization;
using MySqlConnector;

namespace Finstage.Bench;

/// <summary>Small helpers every figure uses: waiting with a deadline, counting rows, percentiles.</summary>
public static class Measure
{
    /// <summary>
    /// Runs warm-up <paramref name="round"/>s (numbered from 0) until one spends under 2 % of its time compiling code, or
    /// <paramref name="maxRounds"/> have run; returns the rounds run. A figure taken while the runtime still recompiles
    /// its hot methods (tiered compilation with profile-guided optimisation: instrumented code first, optimised code
    /// later, on a background thread that competes for the same two cores) measures the compiler: p4 read 30 % lower
    /// after one round than with every method compiled fully at once.
    /// </summary>
    public static async Task<int> WarmUpAsync(Func<int, Task> round, int maxRounds)
    {
        for (var n = 0; n < maxRounds;)
        {
            var compiling = System.Runtime.JitInfo.GetCompilationTime();
            var clock = Stopwatch.StartNew();
            await round(n++);
            if ((System.Runtime.JitInfo.GetCompilationTime() - compiling).TotalSeconds < 0.02 * clock.Elapsed.TotalSeconds)
            {
                return n;
            }
        }
        return maxRounds;
    }

    /// <summary>Polls <paramref name="probe"/> every few milliseconds until it reaches <paramref name="target"/>; returns when it did.</summary>
    public static async Task<TimeSpan> UntilAsync(
        Func<Task<long>> probe, long target, Stopwatch clock, TimeSpan timeout, string what, CancellationToken ct, int pollMs = 25)
    {
        var deadline = clock.Elapsed + timeout;
        long last;
        while ((last = await probe()) < target)
        {
            if (clock.Elapsed > deadline)
            {
                throw new TimeoutException(string.Create(CultureInfo.InvariantCulture, $"Gave up waiting for {what}: {last} of {target} after {timeout.TotalSeconds:0} s"));
            }
            await Task.Delay(pollMs, ct);
        }
        return clock.Elapsed;
    }

    public static async Task<long> ScalarAsync(string connectionString, string sql, CancellationToken ct, params (string Name, object Value)[] parameters)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var command = new MySqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
    }

    public static double Percentile(IReadOnlyList<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }
        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(p / 100 * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }
}
