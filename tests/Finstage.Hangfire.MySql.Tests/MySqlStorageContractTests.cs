using Hangfire;
using Hangfire.Storage;

namespace Finstage.Hangfire.MySql.Tests;

/// <summary>The contract suite against Finstage.Hangfire.MySql on the real MariaDB/MySQL server.</summary>
[Collection(MySqlTestGroup.Name)]
public sealed class MySqlStorageContractTests : StorageContractTests
{
    protected override bool RequeuesOnDispose => true;

    protected override bool ReportsFetchedJobs => true;

    protected override bool HasInvisibilityTimeout => true;

    protected override JobStorage CreateStorage() => TestDatabase.CreateStorage("hf_contract_");

    protected override void SimulateCrash(IFetchedJob fetched) => ((MySqlFetchedJob)fetched).SimulateCrash();

    protected override void RemoveExpiredEntries()
    {
        var storage = (MySqlStorage)Storage;
        new CountersAggregator(storage.Db, TimeSpan.FromMinutes(1), 100).Aggregate(CancellationToken.None);
        new ExpirationManager(storage.Db, TimeSpan.FromMinutes(1), 100).RemoveExpired(CancellationToken.None);
    }
}
