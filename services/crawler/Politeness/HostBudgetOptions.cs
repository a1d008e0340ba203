using System.ComponentModel.DataAnnotations;

namespace Finstage.Crawler.Politeness;

/// <summary>
/// How the crawler instances share each host's rate (docs/decisions/0017-shared-host-budget.md). Without
/// <c>ConnectionStrings:Redis</c> each process keeps its own token bucket per host, right for one instance.
/// </summary>
public sealed class HostBudgetOptions
{
    public const string SectionName = "HostBudget";

    /// <summary>
    /// The crawler instances the budget may be split between while Redis cannot be reached: each one then keeps a
    /// bucket of its own at the host's rate and burst divided by this, so that together they stay within the host's
    /// budget as long as no more instances than this run. Set it to the number of instances deployed.
    /// </summary>
    [Range(1, 1024)]
    public int FallbackInstances { get; set; } = 4;

    /// <summary>How long a process keeps to its own share after Redis failed before it asks Redis again.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan RetryRedisAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Prefix of the buckets' keys, so deployments (and test runs) sharing one Redis keep their budgets apart.</summary>
    [Required]
    [RegularExpression(@"^[A-Za-z0-9_.:-]{1,64}$")]
    public string KeyPrefix { get; set; } = "finstage";
}
