using Finstage.Testing;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Finstage.Scheduler.Tests;

/// <summary>DNS rebinding on the scheduler's API and dashboard (<see cref="HostNamesContract{TEntryPoint}"/>).</summary>
[Trait("Category", "Reliability")]
[Trait("Category", "Security")]
public sealed class HostNamesTests(SchedulerFixture scheduler) : HostNamesContract<Program>
{
    protected override WebApplicationFactory<Program> Factory => scheduler.Factory;

    protected override string ServiceName => "scheduler";

    protected override int Port => 5080;

    protected override IReadOnlyList<string> Paths => ["/api/watchlist", "/hangfire"];

    protected override WebApplicationFactory<Program> WithAllowedHosts(string allowedHosts) =>
        scheduler.Create(new Dictionary<string, string?> { ["AllowedHosts"] = allowedHosts });

    // The fixture keeps every scheduler host to the end of the run (Hangfire's process-wide state points at the newest).
    protected override ValueTask ReleaseAsync(WebApplicationFactory<Program> factory) => ValueTask.CompletedTask;
}
