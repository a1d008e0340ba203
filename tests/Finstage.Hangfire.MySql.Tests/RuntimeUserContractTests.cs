using Hangfire;
using Hangfire.Storage;

namespace Finstage.Hangfire.MySql.Tests;

/// <summary>
/// The whole contract suite again, with the storage over a user that may only SELECT, INSERT, UPDATE and DELETE
/// (the scheduler's runtime user): fetching with SKIP LOCKED, GET_LOCK locks, expiry and counter folding all work
/// without any right to change the schema.
/// </summary>
[Collection(MySqlTestGroup.Name)]
[Trait("Category", "Reliability")]
public sealed class RuntimeUserContractTests : StorageContractTests
{
    protected override bool RequeuesOnDispose => true;

    protected override bool ReportsFetchedJobs => true;

    protected override bool HasInvisibilityTimeout => true;

    protected override JobStorage CreateStorage() => TestDatabase.CreateRuntimeStorage("hf_runtime_");

    protected override void SimulateCrash(IFetchedJob fetched) => ((MySqlFetchedJob)fetched).SimulateCrash();

    protected override void RemoveExpiredEntries()
    {
        var storage = (MySqlStorage)Storage;
        new CountersAggregator(storage.Db, TimeSpan.FromMinutes(1), 100).Aggregate(CancellationToken.None);
        new ExpirationManager(storage.Db, TimeSpan.FromMinutes(1), 100).RemoveExpired(CancellationToken.None);
    }
}
