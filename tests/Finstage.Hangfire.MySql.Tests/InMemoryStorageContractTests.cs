using Hangfire;
using Hangfire.InMemory;
using Hangfire.Storage;

namespace Finstage.Hangfire.MySql.Tests;

/// <summary>The contract suite against Hangfire.InMemory, the reference whose answers the MySQL storage must match.</summary>
// Needs no server, but takes seconds to a minute (large documents, time budgets, waits): the full run only, not ./test.sh --fast.
[Trait("Lane", "Slow")]
public sealed class InMemoryStorageContractTests : StorageContractTests
{
    protected override bool RequeuesOnDispose => false;

    protected override bool ReportsFetchedJobs => false;

    protected override bool HasInvisibilityTimeout => false;

    protected override JobStorage CreateStorage() => new InMemoryStorage();

    protected override void SimulateCrash(IFetchedJob fetched)
    {
        // Never called: InMemory has no invisibility timeout, and the tests that crash a worker are skipped for it.
    }

    protected override void RemoveExpiredEntries()
    {
        // InMemory expires entries by itself.
    }
}
