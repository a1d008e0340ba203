using Hangfire;
using Hangfire.Common;
using Hangfire.Server;
using Hangfire.States;
using Hangfire.Storage;

namespace Finstage.Hangfire.MySql.Tests;

/// <summary>
/// The storage contract as Hangfire uses it, run against the in-memory reference and against MySQL:
/// both must give the same answers.
/// </summary>
public abstract class StorageContractTests : IDisposable
{
    private static readonly string[] DefaultQueue = ["default"];
    private static readonly TimeSpan NothingWait = TimeSpan.FromMilliseconds(600);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    protected StorageContractTests()
    {
        Storage = CreateStorage();
    }

    protected JobStorage Storage { get; }

    /// <summary>Whether fetched jobs come back after the invisibility timeout when their holder dies.</summary>
    protected abstract bool HasInvisibilityTimeout { get; }

    /// <summary>Whether disposing a fetched job that was neither removed nor requeued puts it back in the queue.</summary>
    protected abstract bool RequeuesOnDispose { get; }

    /// <summary>Whether the monitoring API counts and lists fetched (in-flight) queue entries.</summary>
    protected abstract bool ReportsFetchedJobs { get; }

    protected abstract JobStorage CreateStorage();

    /// <summary>Makes a fetched job look like its worker process died: no heartbeat, no requeue.</summary>
    protected abstract void SimulateCrash(IFetchedJob fetched);

    /// <summary>Runs whatever removes expired entries now (a background component on MySQL).</summary>
    protected abstract void RemoveExpiredEntries();

    public void Dispose()
    {
        (Storage as IDisposable)?.Dispose();
        GC.SuppressFinalize(this);
    }

    protected static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    // Every storage here implements the extended API; the casts let the tests call it.
    protected JobStorageConnection Open() => (JobStorageConnection)Storage.GetConnection();

    protected JobStorageMonitor Monitor() => (JobStorageMonitor)Storage.GetMonitoringApi();

    // ---- Queues ------------------------------------------------------------------------------

    [Fact(Timeout = 60_000)]
    public async Task FetchNextJob_ReturnsEnqueuedJob_WhenJobIsInQueue()
    {
        using var connection = Open();
        var jobId = CreateJob(connection);
        Enqueue(connection, "default", jobId);

        using var fetched = connection.FetchNextJob(DefaultQueue, Cancellation);
        fetched.JobId.ShouldBe(jobId);
        fetched.RemoveFromQueue();

        Eventually.TryFetch(connection, DefaultQueue, NothingWait).ShouldBeNull();
        Monitor().EnqueuedCount("default").ShouldBe(0);
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task FetchNextJob_ReturnsJobAgain_WhenRequeued()
    {
        using var connection = Open();
        var jobId = CreateJob(connection);
        Enqueue(connection, "default", jobId);

        using (var first = connection.FetchNextJob(DefaultQueue, Cancellation))
        {
            Eventually.TryFetch(connection, DefaultQueue, NothingWait).ShouldBeNull();
            first.Requeue();
        }

        using var again = connection.FetchNextJob(DefaultQueue, Cancellation);
        again.JobId.ShouldBe(jobId);
        again.RemoveFromQueue();
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task FetchNextJob_ReturnsJobAgain_WhenFetchedJobIsDisposedWithoutRemoval()
    {
        using var connection = Open();
        var jobId = CreateJob(connection);
        Enqueue(connection, "default", jobId);

        connection.FetchNextJob(DefaultQueue, Cancellation).Dispose();

        using var again = Eventually.TryFetch(connection, DefaultQueue, TimeSpan.FromSeconds(1));
        if (RequeuesOnDispose)
        {
            again.ShouldNotBeNull().JobId.ShouldBe(jobId);
            again.RemoveFromQueue();
        }
        else
        {
            // The reference keeps the entry with the (gone) worker; Hangfire's own worker always removes or requeues.
            again.ShouldBeNull();
        }

        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task FetchNextJob_ReturnsJobsInEnqueueOrder_WhenQueueHoldsSeveral()
    {
        using var connection = Open();
        var ids = Enumerable.Range(0, 3).Select(_ => CreateJob(connection)).ToList();
        foreach (var id in ids)
        {
            Enqueue(connection, "default", id);
        }

        var fetchedIds = new List<string>();
        for (var i = 0; i < ids.Count; i++)
        {
            using var fetched = connection.FetchNextJob(DefaultQueue, Cancellation);
            fetchedIds.Add(fetched.JobId);
            fetched.RemoveFromQueue();
        }

        fetchedIds.ShouldBe(ids);
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task FetchNextJob_TakesOnlyFromListedQueues_WhenOtherQueuesHaveJobs()
    {
        using var connection = Open();
        var critical = CreateJob(connection);
        var other = CreateJob(connection);
        Enqueue(connection, "other", other);
        Enqueue(connection, "critical", critical);

        using var fetched = connection.FetchNextJob(["critical"], Cancellation);
        fetched.JobId.ShouldBe(critical);
        fetched.RemoveFromQueue();
        Eventually.TryFetch(connection, ["critical"], NothingWait).ShouldBeNull();
        Monitor().EnqueuedCount("other").ShouldBe(1);
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task FetchNextJob_TakesFromFirstListedQueue_WhenSeveralQueuesHaveJobs()
    {
        using var connection = Open();
        var low = CreateJob(connection);
        var high = CreateJob(connection);
        Enqueue(connection, "default", low);
        Enqueue(connection, "critical", high);

        using var first = connection.FetchNextJob(["critical", "default"], Cancellation);
        first.JobId.ShouldBe(high);
        first.RemoveFromQueue();
        using var second = connection.FetchNextJob(["critical", "default"], Cancellation);
        second.JobId.ShouldBe(low);
        second.RemoveFromQueue();
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task FetchNextJob_Throws_WhenCancelledWhileQueueIsEmpty()
    {
        using var connection = Open();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        Should.Throw<OperationCanceledException>(() => connection.FetchNextJob(DefaultQueue, cts.Token));
        await Task.CompletedTask;
    }

    [Fact(Timeout = 120_000)]
    public async Task FetchNextJob_NeverGivesOneJobToTwoWorkers_WhenWorkersFetchConcurrently()
    {
        const int jobs = 60;
        using (var setup = Open())
        {
            for (var i = 0; i < jobs; i++)
            {
                Enqueue(setup, "default", CreateJob(setup));
            }
        }

        List<string> Work()
        {
            var taken = new List<string>();
            using var connection = Open();
            while (Eventually.TryFetch(connection, DefaultQueue, NothingWait) is { } fetched)
            {
                taken.Add(fetched.JobId);
                fetched.RemoveFromQueue();
                fetched.Dispose();
            }

            return taken;
        }

        var workers = Enumerable.Range(0, 3).Select(_ => Task.Run(Work, Cancellation)).ToArray();
        var results = await Task.WhenAll(workers);

        var all = results.SelectMany(r => r).ToList();
        all.Count.ShouldBe(jobs);
        all.Distinct().Count().ShouldBe(jobs);
    }

    [Fact(Timeout = 60_000)]
    public async Task FetchNextJob_ReturnsAbandonedJob_WhenInvisibilityTimeoutPasses()
    {
        Assert.SkipUnless(HasInvisibilityTimeout, "This storage has no invisibility timeout: a fetched job stays with its worker.");
        using var connection = Open();
        var jobId = CreateJob(connection);
        Enqueue(connection, "default", jobId);

        var crashed = connection.FetchNextJob(DefaultQueue, Cancellation);
        SimulateCrash(crashed);

        using var recovered = connection.FetchNextJob(DefaultQueue, Cancellation);
        recovered.JobId.ShouldBe(jobId);
        recovered.RemoveFromQueue();
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task FetchNextJob_DoesNotReturnRunningJob_WhenItRunsLongerThanInvisibilityTimeout()
    {
        Assert.SkipUnless(HasInvisibilityTimeout, "This storage has no invisibility timeout: a fetched job stays with its worker.");
        using var connection = Open();
        Enqueue(connection, "default", CreateJob(connection));

        using var running = connection.FetchNextJob(DefaultQueue, Cancellation);
        // Three times the 2 s invisibility timeout: a fixed timeout would have handed the job out again.
        Eventually.TryFetch(connection, DefaultQueue, TimeSpan.FromSeconds(6)).ShouldBeNull();
        running.RemoveFromQueue();
        await Task.CompletedTask;
    }

    // ---- Distributed locks -------------------------------------------------------------------

    [Fact(Timeout = 60_000)]
    public async Task AcquireDistributedLock_Throws_WhenAnotherConnectionHoldsIt()
    {
        using var holder = Open();
        using var contender = Open();
        using var held = holder.AcquireDistributedLock("resource", TimeSpan.FromSeconds(1));

        Should.Throw<DistributedLockTimeoutException>(() => contender.AcquireDistributedLock("resource", TimeSpan.FromMilliseconds(300)));
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task AcquireDistributedLock_Succeeds_WhenHolderReleasedIt()
    {
        using var holder = Open();
        using var contender = Open();
        holder.AcquireDistributedLock("resource", TimeSpan.FromSeconds(1)).Dispose();

        using var taken = contender.AcquireDistributedLock("resource", TimeSpan.FromSeconds(1));
        ShouldBeHeld("resource");
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task AcquireDistributedLock_WaitsForRelease_WhenHolderReleasesWithinTimeout()
    {
        using var holder = Open();
        using var contender = Open();
        var held = holder.AcquireDistributedLock("resource", TimeSpan.FromSeconds(1));

        var waiting = Task.Run(() => contender.AcquireDistributedLock("resource", TimeSpan.FromSeconds(20)), Cancellation);
        (await Task.WhenAny(waiting, Task.Delay(500, Cancellation))).ShouldNotBe(waiting);
        held.Dispose();

        using var taken = await waiting;
        ShouldBeHeld("resource");
    }

    [Fact(Timeout = 60_000)]
    public async Task AcquireDistributedLock_Succeeds_WhenSameConnectionTakesItAgain()
    {
        using var connection = Open();
        using var other = Open();
        using (connection.AcquireDistributedLock("resource", TimeSpan.FromSeconds(1)))
        {
            using (connection.AcquireDistributedLock("resource", TimeSpan.FromSeconds(1)))
            {
            }

            // Releasing the inner acquisition must not release the outer one.
            Should.Throw<DistributedLockTimeoutException>(() => other.AcquireDistributedLock("resource", TimeSpan.FromMilliseconds(200)));
        }

        using var taken = other.AcquireDistributedLock("resource", TimeSpan.FromSeconds(1));
        ShouldBeHeld("resource");
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task AcquireDistributedLock_DoesNotBlockOtherResources_WhenOneIsHeld()
    {
        using var holder = Open();
        using var contender = Open();
        using var held = holder.AcquireDistributedLock("resource-a", TimeSpan.FromSeconds(1));

        using var other = contender.AcquireDistributedLock("resource-b", TimeSpan.FromSeconds(1));
        ShouldBeHeld("resource-a");
        ShouldBeHeld("resource-b");
        await Task.CompletedTask;
    }

    /// <summary>
    /// AcquireDistributedLock throws rather than return null when it cannot take a lock, so a lock
    /// it returned is checked by what it does: a third connection cannot take the resource.
    /// </summary>
    private void ShouldBeHeld(string resource)
    {
        using var third = Open();
        Should.Throw<DistributedLockTimeoutException>(() => third.AcquireDistributedLock(resource, TimeSpan.FromMilliseconds(200)));
    }

    // ---- Jobs, parameters, states ------------------------------------------------------------

    [Fact(Timeout = 60_000)]
    public async Task GetJobData_ReturnsJobAndParameters_WhenJobWasCreated()
    {
        using var connection = Open();
        var createdAt = DateTime.UtcNow;
        var jobId = connection.CreateExpiredJob(
            Job.FromExpression(() => TestJobs.Record("payload")),
            new Dictionary<string, string?> { ["CurrentCulture"] = "en-GB", ["RetryCount"] = "0" },
            createdAt, TimeSpan.FromHours(1));

        var data = connection.GetJobData(jobId);
        data.ShouldNotBeNull();
        data.Job.Method.Name.ShouldBe(nameof(TestJobs.Record));
        data.Job.Args.ShouldBe(["payload"]);
        data.State.ShouldBeNull();
        data.CreatedAt.ShouldBe(createdAt, TimeSpan.FromSeconds(1));
        connection.GetJobParameter(jobId, "CurrentCulture").ShouldBe("en-GB");
        connection.GetJobParameter(jobId, "Missing").ShouldBeNull();

        connection.SetJobParameter(jobId, "RetryCount", "1");
        connection.GetJobParameter(jobId, "RetryCount").ShouldBe("1");
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task GetJobData_ReturnsNull_WhenJobDoesNotExist()
    {
        using var connection = Open();
        connection.GetJobData("12345678").ShouldBeNull();
        connection.GetStateData("12345678").ShouldBeNull();
        Monitor().JobDetails("12345678").ShouldBeNull();
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task GetStateData_ReturnsLastSetState_WhenStatesWereSetAndAdded()
    {
        using var connection = Open();
        var jobId = CreateJob(connection);
        using (var tx = connection.CreateWriteTransaction())
        {
            tx.SetJobState(jobId, new EnqueuedState("default") { Reason = "first" });
            tx.Commit();
        }

        using (var tx = connection.CreateWriteTransaction())
        {
            tx.AddJobState(jobId, new ScheduledState(TimeSpan.FromMinutes(5)) { Reason = "second" });
            tx.Commit();
        }

        var state = connection.GetStateData(jobId);
        state.ShouldNotBeNull();
        state.Name.ShouldBe(EnqueuedState.StateName);
        state.Reason.ShouldBe("first");
        state.Data["Queue"].ShouldBe("default");
        connection.GetJobData(jobId)!.State.ShouldBe(EnqueuedState.StateName);

        var details = Monitor().JobDetails(jobId);
        details.ShouldNotBeNull();
        details.History.Select(h => h.StateName).ShouldBe([ScheduledState.StateName, EnqueuedState.StateName]);
        details.History[0].Reason.ShouldBe("second");
        details.History[0].Data.ShouldContainKey("EnqueueAt");
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task JobDetails_ShowsExpiry_WhenJobExpiresAndIsPersisted()
    {
        using var connection = Open();
        var jobId = CreateJob(connection);
        Monitor().JobDetails(jobId)!.ExpireAt.ShouldNotBeNull();

        Commit(connection, tx => tx.PersistJob(jobId));
        Monitor().JobDetails(jobId)!.ExpireAt.ShouldBeNull();

        Commit(connection, tx => tx.ExpireJob(jobId, TimeSpan.FromMinutes(30)));
        var expireAt = Monitor().JobDetails(jobId)!.ExpireAt;
        expireAt.ShouldNotBeNull();
        expireAt.Value.ShouldBe(DateTime.UtcNow.AddMinutes(30), TimeSpan.FromMinutes(1));
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task GetJobData_ReturnsNull_WhenExpiredJobIsRemoved()
    {
        using var connection = Open();
        var jobId = CreateJob(connection);
        Commit(connection, tx => tx.ExpireJob(jobId, TimeSpan.FromMilliseconds(100)));

        (await Eventually.TrueAsync(() =>
        {
            RemoveExpiredEntries();
            return connection.GetJobData(jobId) is null;
        }, Deadline, Cancellation)).ShouldBeTrue();
    }

    [Fact(Timeout = 60_000)]
    public async Task SetJobState_SetsStateAndExpiry_WhenBothChangeInOneTransaction()
    {
        using var connection = Open();
        var jobId = CreateJob(connection);
        Commit(connection, tx =>
        {
            tx.SetJobState(jobId, new EnqueuedState("default"));
            tx.PersistJob(jobId);
        });
        connection.GetJobData(jobId)!.State.ShouldBe(EnqueuedState.StateName);
        Monitor().JobDetails(jobId)!.ExpireAt.ShouldBeNull();

        Commit(connection, tx =>
        {
            tx.SetJobState(jobId, new SucceededState(null, 1, 1));
            tx.ExpireJob(jobId, TimeSpan.FromMinutes(30));
        });
        connection.GetJobData(jobId)!.State.ShouldBe(SucceededState.StateName);
        connection.GetStateData(jobId)!.Name.ShouldBe(SucceededState.StateName);
        Monitor().JobDetails(jobId)!.ExpireAt!.Value.ShouldBe(DateTime.UtcNow.AddMinutes(30), TimeSpan.FromMinutes(1));

        // The later of two expiry changes to one job in one transaction wins.
        Commit(connection, tx =>
        {
            tx.ExpireJob(jobId, TimeSpan.FromMinutes(30));
            tx.PersistJob(jobId);
        });
        Monitor().JobDetails(jobId)!.ExpireAt.ShouldBeNull();
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task GetJobData_ReturnsOwnChanges_WhenConnectionChangedJobUnderItsLock()
    {
        using var connection = Open();
        var jobId = CreateJob(connection);
        using (connection.AcquireDistributedJobLock(jobId, TimeSpan.FromSeconds(10)))
        {
            connection.SetJobParameter(jobId, "Seen", "yes");
            connection.GetJobData(jobId)!.ParametersSnapshot!["Seen"].ShouldBe("yes");

            Commit(connection, tx => tx.SetJobState(jobId, new EnqueuedState("default")));
            connection.GetJobData(jobId)!.State.ShouldBe(EnqueuedState.StateName);
        }

        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task GetJobData_ReturnsOtherConnectionsChanges_WhenJobLockWasReleasedInBetween()
    {
        using var connection = Open();
        using var other = Open();
        var jobId = CreateJob(connection);
        using (connection.AcquireDistributedJobLock(jobId, TimeSpan.FromSeconds(10)))
        {
        }

        Commit(other, tx => tx.SetJobState(jobId, new EnqueuedState("default")));

        connection.GetJobData(jobId)!.State.ShouldBe(EnqueuedState.StateName);
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task GetJobData_ReturnsNull_WhenJobLockIsTakenForMissingJob()
    {
        using var connection = Open();
        using (connection.AcquireDistributedJobLock("87654321", TimeSpan.FromSeconds(10)))
        {
            connection.GetJobData("87654321").ShouldBeNull();
        }

        await Task.CompletedTask;
    }

    // ---- Counters ----------------------------------------------------------------------------

    [Fact(Timeout = 60_000)]
    public async Task GetCounter_ReturnsSumOfIncrementsAndDecrements_WhenCommitted()
    {
        using var connection = Open();
        Commit(connection, tx =>
        {
            tx.IncrementCounter("stats:test");
            tx.IncrementCounter("stats:test");
            tx.IncrementCounter("stats:test", TimeSpan.FromHours(1));
            tx.DecrementCounter("stats:test");
            tx.DecrementCounter("stats:other", TimeSpan.FromHours(1));
        });

        connection.GetCounter("stats:test").ShouldBe(2);
        connection.GetCounter("stats:other").ShouldBe(-1);
        connection.GetCounter("stats:missing").ShouldBe(0);
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task GetCounter_DropsExpiredIncrements_WhenExpiryPasses()
    {
        using var connection = Open();
        Commit(connection, tx =>
        {
            tx.IncrementCounter("stats:short", TimeSpan.FromMilliseconds(100));
            tx.IncrementCounter("stats:long", TimeSpan.FromHours(1));
        });

        (await Eventually.TrueAsync(() =>
        {
            RemoveExpiredEntries();
            return connection.GetCounter("stats:short") == 0;
        }, Deadline, Cancellation)).ShouldBeTrue();
        connection.GetCounter("stats:long").ShouldBe(1);
    }

    [Fact(Timeout = 60_000)]
    public async Task Transaction_ChangesNothing_WhenDisposedWithoutCommit()
    {
        using var connection = Open();
        using (var tx = connection.CreateWriteTransaction())
        {
            tx.IncrementCounter("stats:uncommitted");
            tx.AddToSet("uncommitted", "value");
        }

        connection.GetCounter("stats:uncommitted").ShouldBe(0);
        connection.GetAllItemsFromSet("uncommitted").ShouldBeEmpty();
        await Task.CompletedTask;
    }

    // ---- Sets --------------------------------------------------------------------------------

    [Fact(Timeout = 60_000)]
    public async Task GetFirstByLowestScoreFromSet_ReturnsLowestInRange_WhenSetHasScores()
    {
        using var connection = Open();
        Commit(connection, tx =>
        {
            tx.AddToSet("schedule", "c", 3.0);
            tx.AddToSet("schedule", "a", 1.0);
            tx.AddToSet("schedule", "b", 2.0);
            tx.AddToSet("schedule", "z", 10.0);
            tx.AddToSet("other", "x", 0.5);
        });

        connection.GetFirstByLowestScoreFromSet("schedule", 0, 5).ShouldBe("a");
        connection.GetFirstByLowestScoreFromSet("schedule", 1.5, 5).ShouldBe("b");
        connection.GetFirstByLowestScoreFromSet("schedule", 4, 5).ShouldBeNull();
        var extended = connection;
        extended.GetFirstByLowestScoreFromSet("schedule", 0, 5, 2).ShouldBe(["a", "b"]);
        extended.GetFirstByLowestScoreFromSet("schedule", 0, 100, 10).ShouldBe(["a", "b", "c", "z"]);
        Should.Throw<ArgumentException>(() => connection.GetFirstByLowestScoreFromSet("schedule", 5, 0));
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task AddToSet_UpdatesScore_WhenValueIsAlreadyInSet()
    {
        using var connection = Open();
        Commit(connection, tx =>
        {
            tx.AddToSet("set", "a", 1.0);
            tx.AddToSet("set", "b", 2.0);
        });
        Commit(connection, tx => tx.AddToSet("set", "a", 3.0));

        var extended = connection;
        extended.GetSetCount("set").ShouldBe(2);
        extended.GetFirstByLowestScoreFromSet("set", 0, 10, 5).ShouldBe(["b", "a"]);
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task SetQueries_AnswerCountsRangesAndMembership_WhenSetHasItems()
    {
        using var connection = Open();
        var extended = connection;
        Commit(connection, tx =>
        {
            tx.AddToSet("tags", "b", 2.0);
            tx.AddToSet("tags", "a", 1.0);
            tx.AddRangeToSet("tags", ["c", "d"]);
            tx.AddToSet("more", "x");
        });
        Commit(connection, tx => tx.RemoveFromSet("tags", "d"));

        connection.GetAllItemsFromSet("tags").ShouldBe(new HashSet<string> { "a", "b", "c" }, ignoreOrder: true);
        connection.GetAllItemsFromSet("missing").ShouldBeEmpty();
        extended.GetSetCount("tags").ShouldBe(3);
        extended.GetSetCount(["tags", "more", "missing"], 10).ShouldBe(4);
        extended.GetSetCount(["tags", "more"], 2).ShouldBe(2);
        extended.GetSetContains("tags", "a").ShouldBeTrue();
        extended.GetSetContains("tags", "d").ShouldBeFalse();
        // Ranges follow the score (AddRangeToSet scores 0), as sorted sets do.
        extended.GetRangeFromSet("tags", 0, 1).ShouldBe(["c", "a"]);
        extended.GetRangeFromSet("tags", 0, 10).ShouldBe(["c", "a", "b"]);
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task SetTtl_FollowsExpireAndPersist_WhenSetIsExpired()
    {
        using var connection = Open();
        var extended = connection;
        Commit(connection, tx => tx.AddToSet("set", "a"));
        extended.GetSetTtl("set").ShouldBeLessThan(TimeSpan.Zero);

        Commit(connection, tx => tx.ExpireSet("set", TimeSpan.FromHours(1)));
        extended.GetSetTtl("set").ShouldBe(TimeSpan.FromHours(1), TimeSpan.FromMinutes(1));

        Commit(connection, tx => tx.PersistSet("set"));
        extended.GetSetTtl("set").ShouldBeLessThan(TimeSpan.Zero);
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task GetAllItemsFromSet_ReturnsEmpty_WhenSetExpiredOrRemoved()
    {
        using var connection = Open();
        Commit(connection, tx =>
        {
            tx.AddToSet("expiring", "a");
            tx.ExpireSet("expiring", TimeSpan.FromMilliseconds(100));
            tx.AddToSet("removed", "a");
            tx.AddToSet("kept", "a");
        });
        Commit(connection, tx => tx.RemoveSet("removed"));

        connection.GetAllItemsFromSet("removed").ShouldBeEmpty();
        (await Eventually.TrueAsync(() =>
        {
            RemoveExpiredEntries();
            return connection.GetAllItemsFromSet("expiring").Count == 0;
        }, Deadline, Cancellation)).ShouldBeTrue();
        connection.GetAllItemsFromSet("kept").ShouldBe(["a"]);
    }

    // ---- Hashes ------------------------------------------------------------------------------

    [Fact(Timeout = 60_000)]
    public async Task HashQueries_ReturnFields_WhenHashWasSet()
    {
        using var connection = Open();
        var extended = connection;
        connection.SetRangeInHash("recurring-job:a", [new("Cron", "* * * * *"), new("Queue", "default")]);
        Commit(connection, tx => tx.SetRangeInHash("recurring-job:a", [new("Queue", "critical"), new("Job", "{}")]));

        var all = connection.GetAllEntriesFromHash("recurring-job:a");
        all.ShouldNotBeNull();
        all.ShouldBe(new Dictionary<string, string> { ["Cron"] = "* * * * *", ["Queue"] = "critical", ["Job"] = "{}" }, ignoreOrder: true);
        extended.GetValueFromHash("recurring-job:a", "Queue").ShouldBe("critical");
        extended.GetValueFromHash("recurring-job:a", "Missing").ShouldBeNull();
        extended.GetHashCount("recurring-job:a").ShouldBe(3);
        connection.GetAllEntriesFromHash("missing").ShouldBeNull();

        Commit(connection, tx => tx.RemoveHash("recurring-job:a"));
        connection.GetAllEntriesFromHash("recurring-job:a").ShouldBeNull();
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task HashTtl_FollowsExpireAndPersist_WhenHashIsExpired()
    {
        using var connection = Open();
        var extended = connection;
        connection.SetRangeInHash("hash", [new("a", "1")]);
        extended.GetHashTtl("hash").ShouldBeLessThan(TimeSpan.Zero);

        Commit(connection, tx => tx.ExpireHash("hash", TimeSpan.FromHours(1)));
        extended.GetHashTtl("hash").ShouldBe(TimeSpan.FromHours(1), TimeSpan.FromMinutes(1));

        Commit(connection, tx => tx.PersistHash("hash"));
        extended.GetHashTtl("hash").ShouldBeLessThan(TimeSpan.Zero);

        Commit(connection, tx => tx.ExpireHash("hash", TimeSpan.FromMilliseconds(100)));
        (await Eventually.TrueAsync(() =>
        {
            RemoveExpiredEntries();
            return connection.GetAllEntriesFromHash("hash") is null;
        }, Deadline, Cancellation)).ShouldBeTrue();
    }

    // ---- Lists -------------------------------------------------------------------------------

    [Fact(Timeout = 60_000)]
    public async Task ListQueries_ReturnNewestFirst_WhenItemsWereInserted()
    {
        using var connection = Open();
        var extended = connection;
        Commit(connection, tx =>
        {
            tx.InsertToList("list", "1");
            tx.InsertToList("list", "2");
            tx.InsertToList("list", "3");
            tx.InsertToList("list", "2");
        });

        extended.GetAllItemsFromList("list").ShouldBe(["2", "3", "2", "1"]);
        extended.GetRangeFromList("list", 1, 2).ShouldBe(["3", "2"]);
        extended.GetListCount("list").ShouldBe(4);
        extended.GetAllItemsFromList("missing").ShouldBeEmpty();

        Commit(connection, tx => tx.RemoveFromList("list", "2"));
        extended.GetAllItemsFromList("list").ShouldBe(["3", "1"]);
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task TrimList_KeepsOnlyRange_WhenListIsLonger()
    {
        using var connection = Open();
        var extended = connection;
        Commit(connection, tx =>
        {
            foreach (var i in Enumerable.Range(1, 6))
            {
                tx.InsertToList("list", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            tx.TrimList("list", 1, 3);
        });

        extended.GetAllItemsFromList("list").ShouldBe(["5", "4", "3"]);
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task TrimList_EmptiesOnlyThatList_WhenRangeIsEmpty()
    {
        using var connection = Open();
        Commit(connection, tx =>
        {
            tx.InsertToList("trimmed", "a");
            tx.InsertToList("trimmed", "b");
            tx.InsertToList("kept", "c");
            tx.TrimList("trimmed", 2, 1);
        });

        connection.GetAllItemsFromList("trimmed").ShouldBeEmpty();
        connection.GetAllItemsFromList("kept").ShouldBe(["c"]);
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task ListTtl_FollowsExpireAndPersist_WhenListIsExpired()
    {
        using var connection = Open();
        var extended = connection;
        Commit(connection, tx => tx.InsertToList("list", "a"));
        extended.GetListTtl("list").ShouldBeLessThan(TimeSpan.Zero);

        Commit(connection, tx => tx.ExpireList("list", TimeSpan.FromHours(1)));
        extended.GetListTtl("list").ShouldBe(TimeSpan.FromHours(1), TimeSpan.FromMinutes(1));

        Commit(connection, tx => tx.PersistList("list"));
        extended.GetListTtl("list").ShouldBeLessThan(TimeSpan.Zero);

        Commit(connection, tx => tx.ExpireList("list", TimeSpan.FromMilliseconds(100)));
        (await Eventually.TrueAsync(() =>
        {
            RemoveExpiredEntries();
            return extended.GetListCount("list") == 0;
        }, Deadline, Cancellation)).ShouldBeTrue();
    }

    // ---- Servers -----------------------------------------------------------------------------

    [Fact(Timeout = 60_000)]
    public async Task Servers_ListsAnnouncedServer_WhenServerAnnouncedItself()
    {
        using var connection = Open();
        connection.AnnounceServer("server-1", new ServerContext { WorkerCount = 4, Queues = ["critical", "default"] });
        connection.Heartbeat("server-1");

        var server = Monitor().Servers().ShouldHaveSingleItem();
        server.Name.ShouldBe("server-1");
        server.WorkersCount.ShouldBe(4);
        server.Queues.ShouldBe(["critical", "default"]);
        server.Heartbeat.ShouldNotBeNull();
        server.Heartbeat.Value.ShouldBe(DateTime.UtcNow, TimeSpan.FromMinutes(1));
        Monitor().GetStatistics().Servers.ShouldBe(1);

        connection.RemoveServer("server-1");
        Monitor().Servers().ShouldBeEmpty();
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task RemoveTimedOutServers_RemovesOnlySilentServers_WhenOneStoppedBeating()
    {
        using var connection = Open();
        connection.AnnounceServer("dead", new ServerContext { WorkerCount = 1, Queues = ["default"] });
        // Lets the dead server's last heartbeat age; the live one beats just before the check.
        await Task.Delay(TimeSpan.FromSeconds(3), Cancellation);
        connection.AnnounceServer("alive", new ServerContext { WorkerCount = 1, Queues = ["default"] });
        connection.Heartbeat("alive");

        connection.RemoveTimedOutServers(TimeSpan.FromSeconds(1.5)).ShouldBe(1);

        Monitor().Servers().Select(s => s.Name).ShouldBe(["alive"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task Heartbeat_Throws_WhenServerWasRemoved()
    {
        using var connection = Open();
        connection.AnnounceServer("server-1", new ServerContext { WorkerCount = 1, Queues = ["default"] });
        connection.RemoveServer("server-1");

        Should.Throw<BackgroundServerGoneException>(() => connection.Heartbeat("server-1"));
        await Task.CompletedTask;
    }

    // ---- Monitoring --------------------------------------------------------------------------

    [Fact(Timeout = 60_000)]
    public async Task MonitoringApi_CountsJobsByState_WhenClientCreatesJobs()
    {
        var client = new BackgroundJobClient(Storage);
        var enqueued = client.Enqueue("default", () => TestJobs.Record("monitoring"));
        client.Enqueue("critical", () => TestJobs.Record("monitoring"));
        var scheduled = client.Schedule(() => TestJobs.Record("monitoring"), TimeSpan.FromHours(1));
        var deleted = client.Enqueue(() => TestJobs.Record("monitoring"));
        client.Delete(deleted).ShouldBeTrue();
        var failed = client.Create(() => TestJobs.RecordWithoutRetry("monitoring"), new FailedState(new InvalidOperationException("boom")));

        var api = Monitor();
        var stats = api.GetStatistics();
        stats.Enqueued.ShouldBe(2);
        stats.Scheduled.ShouldBe(1);
        stats.Failed.ShouldBe(1);
        stats.Deleted.ShouldBe(1);
        stats.Processing.ShouldBe(0);
        stats.Succeeded.ShouldBe(0);

        api.ScheduledCount().ShouldBe(1);
        api.FailedCount().ShouldBe(1);
        api.DeletedListCount().ShouldBe(1);
        api.EnqueuedCount("default").ShouldBe(2);
        api.EnqueuedCount("critical").ShouldBe(1);
        api.FetchedCount("default").ShouldBe(0);

        var queues = api.Queues();
        queues.Select(q => q.Name).ShouldBe(["critical", "default"], ignoreOrder: true);
        var defaultQueue = queues.Single(q => q.Name == "default");
        defaultQueue.Length.ShouldBe(2);
        defaultQueue.FirstJobs.Select(j => j.Key).ShouldContain(enqueued);

        var enqueuedList = api.EnqueuedJobs("default", 0, 10);
        enqueuedList.Select(j => j.Key).ShouldContain(enqueued);
        var enqueuedDto = enqueuedList.Single(j => j.Key == enqueued).Value;
        enqueuedDto.InEnqueuedState.ShouldBeTrue();
        enqueuedDto.State.ShouldBe(EnqueuedState.StateName);
        enqueuedDto.EnqueuedAt.ShouldNotBeNull();

        var scheduledDto = api.ScheduledJobs(0, 10).ShouldHaveSingleItem();
        scheduledDto.Key.ShouldBe(scheduled);
        scheduledDto.Value.EnqueueAt.ShouldBe(DateTime.UtcNow.AddHours(1), TimeSpan.FromMinutes(1));

        var failedDto = api.FailedJobs(0, 10).ShouldHaveSingleItem();
        failedDto.Key.ShouldBe(failed);
        failedDto.Value.ExceptionMessage.ShouldBe("boom");
        failedDto.Value.ExceptionType.ShouldBe(typeof(InvalidOperationException).FullName);

        api.DeletedJobs(0, 10).ShouldHaveSingleItem().Key.ShouldBe(deleted);
        api.ProcessingJobs(0, 10).ShouldBeEmpty();
        api.SucceededJobs(0, 10).ShouldBeEmpty();
        api.DeletedByDatesCount()[DateTime.UtcNow.Date].ShouldBe(1);
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task MonitoringApi_ListsFetchedJob_WhenWorkerHoldsIt()
    {
        using var connection = Open();
        var jobId = new BackgroundJobClient(Storage).Enqueue(() => TestJobs.Record("fetched"));

        using var fetched = connection.FetchNextJob(DefaultQueue, Cancellation);
        var api = Monitor();
        api.EnqueuedCount("default").ShouldBe(0);
        api.EnqueuedJobs("default", 0, 10).ShouldBeEmpty();
        if (ReportsFetchedJobs)
        {
            api.FetchedCount("default").ShouldBe(1);
            api.FetchedJobs("default", 0, 10).ShouldHaveSingleItem().Key.ShouldBe(jobId);
        }
        else
        {
            api.FetchedCount("default").ShouldBe(0);
        }

        fetched.RemoveFromQueue();
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task MonitoringApi_PagesJobLists_WhenManyJobsShareAState()
    {
        var client = new BackgroundJobClient(Storage);
        var ids = Enumerable.Range(0, 7).Select(_ => client.Schedule(() => TestJobs.Record("paging"), TimeSpan.FromHours(1))).ToList();

        var api = Monitor();
        var first = api.ScheduledJobs(0, 5).Select(j => j.Key).ToList();
        var second = api.ScheduledJobs(5, 5).Select(j => j.Key).ToList();

        first.Count.ShouldBe(5);
        second.Count.ShouldBe(2);
        first.Concat(second).ShouldBe(ids, ignoreOrder: true);
        await Task.CompletedTask;
    }

    // ---- With a background job server -------------------------------------------------------

    [Fact(Timeout = 120_000)]
    public async Task BackgroundJobServer_RunsJobAndRecordsHistory_WhenJobIsEnqueued()
    {
        var token = Guid.NewGuid().ToString("N");
        using var server = StartServer();
        var jobId = new BackgroundJobClient(Storage).Enqueue(() => TestJobs.Record(token));

        (await Eventually.TrueAsync(() => Open().GetStateData(jobId)?.Name == SucceededState.StateName, Deadline, Cancellation))
            .ShouldBeTrue();
        TestJobs.RunsOf(token).ShouldBe(1);

        var api = Monitor();
        // The worker acknowledged the job: nothing is left in the queue, waiting or in flight.
        (await Eventually.TrueAsync(() => api.EnqueuedCount("default") == 0 && api.FetchedCount("default") == 0, Deadline, Cancellation))
            .ShouldBeTrue();
        api.JobDetails(jobId)!.History.Select(h => h.StateName)
            .ShouldBe([SucceededState.StateName, ProcessingState.StateName, EnqueuedState.StateName]);
        api.GetStatistics().Succeeded.ShouldBe(1);
        api.SucceededListCount().ShouldBe(1);
        api.SucceededJobs(0, 10).ShouldHaveSingleItem().Value.SucceededAt.ShouldNotBeNull();
        api.SucceededByDatesCount()[DateTime.UtcNow.Date].ShouldBe(1);
        api.HourlySucceededJobs().Values.Sum().ShouldBe(1);
        api.FailedByDatesCount().Values.Sum().ShouldBe(0);
        api.HourlyFailedJobs().Count.ShouldBe(24);
    }

    [Fact(Timeout = 120_000)]
    public async Task RecurringJobManager_RunsJob_WhenTriggeredManually()
    {
        var token = Guid.NewGuid().ToString("N");
        var manager = new RecurringJobManager(Storage);
        manager.AddOrUpdate("manual-" + token, () => TestJobs.Record(token), Cron.Yearly());

        using var connection = Open();
        connection.GetAllItemsFromSet("recurring-jobs").ShouldContain("manual-" + token);
        Monitor().GetStatistics().Recurring.ShouldBe(1);

        using var server = StartServer();
        manager.Trigger("manual-" + token);

        (await Eventually.TrueAsync(() => TestJobs.RunsOf(token) == 1, Deadline, Cancellation)).ShouldBeTrue();
        connection.GetAllEntriesFromHash("recurring-job:manual-" + token)!.ShouldContainKey("LastJobId");
    }

    [Fact(Timeout = 120_000)]
    public async Task RecurringJobScheduler_RunsJobOnSchedule_WhenCronIsDue()
    {
        var token = Guid.NewGuid().ToString("N");
        using var server = StartServer();
        new RecurringJobManager(Storage).AddOrUpdate("every-second-" + token, () => TestJobs.Record(token), "* * * * * *");

        (await Eventually.TrueAsync(() => TestJobs.RunsOf(token) >= 2, TimeSpan.FromSeconds(60), Cancellation)).ShouldBeTrue();
    }

    [Fact(Timeout = 120_000)]
    public async Task DelayedJobScheduler_RunsScheduledJob_WhenItBecomesDue()
    {
        var token = Guid.NewGuid().ToString("N");
        using var server = StartServer();
        var jobId = new BackgroundJobClient(Storage).Schedule(() => TestJobs.Record(token), TimeSpan.FromSeconds(1));

        (await Eventually.TrueAsync(() => TestJobs.RunsOf(token) == 1, Deadline, Cancellation)).ShouldBeTrue();
        (await Eventually.TrueAsync(() => Open().GetStateData(jobId)?.Name == SucceededState.StateName, Deadline, Cancellation))
            .ShouldBeTrue();
    }

    // ---- Helpers -----------------------------------------------------------------------------

    private BackgroundJobServer StartServer() => new(
        new BackgroundJobServerOptions
        {
            WorkerCount = 2,
            Queues = ["default"],
            SchedulePollingInterval = TimeSpan.FromMilliseconds(200),
            ServerName = "tests-" + Guid.NewGuid().ToString("N")[..8],
        },
        Storage);

    private static string CreateJob(JobStorageConnection connection) =>
        connection.CreateExpiredJob(Job.FromExpression(() => TestJobs.Record("queued")), new Dictionary<string, string?>(), DateTime.UtcNow, TimeSpan.FromHours(1));

    private static void Enqueue(JobStorageConnection connection, string queue, string jobId) =>
        Commit(connection, tx => tx.AddToQueue(queue, jobId));

    private static void Commit(JobStorageConnection connection, Action<JobStorageTransaction> write)
    {
        using var tx = (JobStorageTransaction)connection.CreateWriteTransaction();
        write(tx);
        tx.Commit();
    }
}
