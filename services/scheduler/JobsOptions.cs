using System.ComponentModel.DataAnnotations;

namespace Finstage.Scheduler;

/// <summary>How the scheduler's Hangfire server runs jobs.</summary>
public sealed class JobsOptions
{
    public const string SectionName = "Jobs";

    /// <summary>Jobs run at once; a fan-out is short, so a few suffice.</summary>
    [Range(1, 100)]
    public int WorkerCount { get; set; } = 4;
}
