using Hangfire;
using Hangfire.Common;
using Hangfire.Server;
using Hangfire.States;
using Hangfire.Storage;
using MySqlConnector;

namespace Finstage.Hangfire.MySql.Tests;

/// <summary>
/// MySQL-only checks, one or more per row of the failure table in HANGFIRE-MYSQL-NOTES.md:
/// what earlier MySQL storages got wrong must not happen here.
/// </summary>
[Collection(MySqlTestGroup.Name)]
public sealed class MySqlStorageTests : IDisposable
{
    private const string Prefix = "hf_mysql_";
    private static readonly string[] DefaultQueue = ["default"];
    private readonly MySqlStorage _storage = TestDatabase.CreateStorage(Prefix);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public void Dispose() => _storage.Dispose();

    // Row: two holders of one lock; a dead holder's lock.

    [Fact(Timeout = 60_000)]
    public async Task AcquireDistributedLock_Succeeds_WhenHolderSessionDies()
    {
        using var holder = _storage.GetConnection();
        using var contender = _storage.GetConnection();
        using var held = holder.AcquireDistributedLock("crash-me", TimeSpan.FromSeconds(1));

        // IS_USED_LOCK names the holder's session; killing it is what a crashed process looks like to the server.
        var lockName = DistributedLockNames.For(TestDatabase.Name, Prefix, "crash-me");
        await using (var admin = await OpenAdminAsync())
        {
            var holderSession = await ScalarAsync<long>(admin, "SELECT IS_USED_LOCK(@name)", ("@name", lockName));
            await ScalarAsync<object>(admin, $"KILL {holderSession}");
        }

        using var taken = contender.AcquireDistributedLock("crash-me", TimeSpan.FromSeconds(10));
        ShouldBeHeld(_storage, "crash-me");
    }

    /// <summary>
    /// AcquireDistributedLock throws rather than return null when it cannot take a lock, so a lock
    /// it returned is checked by what it does: a third connection cannot take the resource.
    /// </summary>
    private static void ShouldBeHeld(MySqlStorage storage, string resource)
    {
        using var third = storage.GetConnection();
        Should.Throw<DistributedLockTimeoutException>(() => third.AcquireDistributedLock(resource, TimeSpan.FromMilliseconds(200)));
    }

    [Fact(Timeout = 60_000)]
    public async Task AcquireDistributedLock_KeepsLock_WhenHeldLongerThanTheContendersTimeout()
    {
        using var holder = _storage.GetConnection();
        using var contender = _storage.GetConnection();
        using var held = holder.AcquireDistributedLock("long-run", TimeSpan.FromSeconds(1));

        // Locks have no expiry of their own: a live holder keeps it however long its job runs.
        Should.Throw<DistributedLockTimeoutException>(() => contender.AcquireDistributedLock("long-run", TimeSpan.FromSeconds(2)));
        Should.Throw<DistributedLockTimeoutException>(() => contender.AcquireDistributedLock("long-run", TimeSpan.FromSeconds(1)));
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task AcquireDistributedLock_IsExclusive_WhenManyConnectionsRace()
    {
        var inside = 0;
        var maxInside = 0;
        var entries = 0;

        void Contend()
        {
            using var connection = _storage.GetConnection();
            for (var i = 0; i < 10; i++)
            {
                using (connection.AcquireDistributedLock("race", TimeSpan.FromSeconds(30)))
                {
                    var now = Interlocked.Increment(ref inside);
                    InterlockedMax(ref maxInside, now);
                    Interlocked.Increment(ref entries);
                    Thread.Yield();
                    Interlocked.Decrement(ref inside);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(Contend, Cancellation)));
        entries.ShouldBe(40);
        maxInside.ShouldBe(1);
    }

    [Fact(Timeout = 90_000)]
    public async Task AcquireDistributedLock_WaitsPastCommandTimeout_WhenHolderReleasesLate()
    {
        // A driver command timeout of 2 s: one GET_LOCK waiting out the whole 30 s acquire timeout would be cut off.
        var shortCommands = new MySqlConnectionStringBuilder(TestDatabase.ConnectionString) { DefaultCommandTimeout = 2 }.ConnectionString;
        using var storage = new MySqlStorage(shortCommands, new MySqlStorageOptions { TablesPrefix = Prefix });
        using var holder = storage.GetConnection();
        using var contender = storage.GetConnection();
        var held = holder.AcquireDistributedLock("late", TimeSpan.FromSeconds(1));
        var waiting = Task.Run(() => contender.AcquireDistributedLock("late", TimeSpan.FromSeconds(30)), Cancellation);

        // Held for longer than a command may run; the holder's work here is the waiting.
        await Task.Delay(TimeSpan.FromSeconds(5), Cancellation);
        waiting.IsCompleted.ShouldBeFalse();
        held.Dispose();

        using var taken = await waiting.WaitAsync(TimeSpan.FromSeconds(30), Cancellation);
        ShouldBeHeld(storage, "late");
    }

    [Fact(Timeout = 60_000)]
    public async Task AcquireDistributedLock_KeepsLockPastItsSessionTimeout_WhileTheHolderLives()
    {
        using var storage = TestDatabase.CreateStorage(Prefix, options => options.DistributedLockSessionTimeout = TimeSpan.FromSeconds(3));
        using var holder = storage.GetConnection();
        using var held = holder.AcquireDistributedLock("heartbeat", TimeSpan.FromSeconds(1));

        // Twice the session's timeout without a word from Hangfire: the lock's heartbeat is what keeps the session.
        await Task.Delay(TimeSpan.FromSeconds(7), Cancellation);

        ShouldBeHeld(storage, "heartbeat");
    }

    [Fact(Timeout = 90_000)]
    public async Task AcquireDistributedLock_Succeeds_WhenTheHolderIsCutOffByTheNetwork()
    {
        // The holder reaches MariaDB through a relay that the test freezes: its connection stays open at both ends and
        // carries nothing more, as in a partition. Without a timeout of the lock's own, the server would keep the
        // session, and the lock, for its wait_timeout (8 hours by default).
        var direct = new MySqlConnectionStringBuilder(TestDatabase.ConnectionString);
        var relay = TcpRelay.Start(direct.Server, (int)direct.Port);
        var throughRelay = new MySqlConnectionStringBuilder(direct.ConnectionString) { Server = "127.0.0.1", Port = (uint)relay.Port }.ConnectionString;
        var cutOff = TestDatabase.CreateStorage(Prefix, options => options.DistributedLockSessionTimeout = TimeSpan.FromSeconds(3), throughRelay);
        var holder = cutOff.GetConnection();
        try
        {
            using var contenders = TestDatabase.CreateStorage(Prefix);
            holder.AcquireDistributedLock("partitioned", TimeSpan.FromSeconds(1));
            ShouldBeHeld(contenders, "partitioned");

            relay.Freeze();

            // The server ends the silent session after 3 s, and the lock with it.
            using var contender = contenders.GetConnection();
            using var taken = contender.AcquireDistributedLock("partitioned", TimeSpan.FromSeconds(30));
            ShouldBeHeld(contenders, "partitioned");
        }
        finally
        {
            // The relay first: its connections then fail at once instead of waiting on a partition.
            await relay.DisposeAsync();
            holder.Dispose();
            cutOff.Dispose();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task GetJobData_AnswersFromTheLockRoundTrip_WhenJobLockWasJustTaken()
    {
        using var connection = _storage.GetConnection();
        var jobId = CreateJob(connection, ("p", "v"));
        using (connection.AcquireDistributedJobLock(jobId, TimeSpan.FromSeconds(10)))
        {
            // A parameter deleted behind the lock holder's back (no Hangfire writer would; the job row itself is locked):
            // the answer was read with the lock.
            await using (var db = await OpenTestDatabaseAsync())
            {
                await ExecuteAsync(db, $"DELETE FROM `{Prefix}job_parameter` WHERE `job_id` = {jobId}");
            }

            connection.GetJobData(jobId)!.ParametersSnapshot.ShouldContainKey("p");
            // Used once: the next read asks the server.
            connection.GetJobData(jobId)!.ParametersSnapshot.ShouldNotContainKey("p");
        }
    }

    // Issue 18: a job's state lock is the job row's lock, taken with the job's read and ended by the state's commit.

    [Fact(Timeout = 120_000)]
    [Trait("Category", "Reliability")]
    public void ChangeState_TakesTwoRoundTrips_WhenTheJobLockIsTheJobRow()
    {
        var client = new BackgroundJobClient(_storage);
        var jobId = client.Enqueue(() => TestJobs.Record("state-round-trips"));

        // Before: GET_LOCK with the read, the state's transaction, RELEASE_LOCK.
        var roundTrips = CountRoundTrips(() => client.ChangeState(jobId, new DeletedState(), EnqueuedState.StateName).ShouldBeTrue());

        roundTrips.ShouldBe(2);
        using var connection = _storage.GetConnection();
        connection.GetJobData(jobId)!.State.ShouldBe(DeletedState.StateName);
    }

    [Fact(Timeout = 120_000)]
    [Trait("Category", "Reliability")]
    public void FetchNextJob_TakesOneRoundTrip_WhenAJobIsQueued()
    {
        // The one-round-trip fetch is off by default (it costs the server more than it saves, docs/decisions/0021) and
        // kept for the benchmark's comparison: it must still claim exactly the queued job.
        using var storage = new MySqlStorage(TestDatabase.ConnectionString, new MySqlStorageOptions { TablesPrefix = Prefix, FetchInOneRoundTrip = true });
        using var connection = storage.GetConnection();
        var jobId = CreateJob(connection);
        Enqueue(connection, jobId);

        // Before: a locking probe, then the claim with COMMIT.
        IFetchedJob? fetched = null;
        var roundTrips = CountRoundTrips(() => fetched = connection.FetchNextJob(DefaultQueue, Cancellation));

        roundTrips.ShouldBe(1);
        using (fetched)
        {
            fetched!.JobId.ShouldBe(jobId);
            fetched.RemoveFromQueue();
        }
    }

    [Fact(Timeout = 120_000)]
    [Trait("Category", "Reliability")]
    public void Worker_PerformsAJobInFourRoundTrips_WhenTheFetchTakesTheJobLock()
    {
        // One pass of Hangfire's worker. Without the lever (the default, docs/decisions/0025): the fetch in two, then the
        // Processing and the Succeeded state each a lock with the job's read and a commit (6). With it the fetch's round
        // trip also takes the job's lock, so the Processing state is its commit alone.
        PerformOneJob(options => options.FetchTakesJobLock = true).ShouldBe(4);
    }

    // Enqueues a job and runs one pass of Hangfire's worker on it; returns the round trips of the pass.
    private static int PerformOneJob(Action<MySqlStorageOptions>? configure)
    {
        // A long invisibility timeout: no heartbeat touch falls inside the count.
        using var storage = TestDatabase.CreateStorage("hf_trips_", options =>
        {
            options.InvisibilityTimeout = TimeSpan.FromMinutes(5);
            configure?.Invoke(options);
        });
        var token = Guid.NewGuid().ToString("N");
        var jobId = new BackgroundJobClient(storage).Enqueue(() => TestJobs.Record(token));
        using var stop = new CancellationTokenSource();
        var context = new BackgroundProcessContext("round-trips", storage, new Dictionary<string, object>(), Guid.NewGuid(), stop.Token, stop.Token, stop.Token);

        var roundTrips = CountRoundTrips(() => new Worker().Execute(context));

        TestJobs.RunsOf(token).ShouldBe(1);
        using var connection = storage.GetConnection();
        connection.GetJobData(jobId)!.State.ShouldBe(SucceededState.StateName);
        Eventually.TryFetch(connection, DefaultQueue, TimeSpan.FromMilliseconds(600)).ShouldBeNull();
        return roundTrips;
    }

    // A storage whose fetch takes the job's lock (off by default, docs/decisions/0025), over the same tables as _storage.
    private static MySqlStorage FetchLockStorage() =>
        new(TestDatabase.ConnectionString, new MySqlStorageOptions { TablesPrefix = Prefix, FetchTakesJobLock = true });

    [Fact(Timeout = 120_000)]
    [Trait("Category", "Reliability")]
    public async Task FetchNextJob_FreesTheJobLockAndKeepsTheClaim_WhenTheFetchingSessionDies()
    {
        using var storage = FetchLockStorage();
        using var worker = storage.GetConnection();
        using var other = _storage.GetConnection();
        var jobId = CreateJob(worker);
        Enqueue(worker, jobId);
        using var fetched = worker.FetchNextJob(DefaultQueue, Cancellation);
        fetched.JobId.ShouldBe(jobId);

        // The fetch holds the job's state lock for the worker's state change.
        Should.Throw<DistributedLockTimeoutException>(() => other.AcquireDistributedJobLock(jobId, TimeSpan.FromMilliseconds(300)));
        var session = ((MySqlStorageConnection)worker).FetchedLockSession.ShouldNotBeNull();
        await using (var admin = await OpenAdminAsync())
        {
            await ScalarAsync<object>(admin, $"KILL {session}");
        }

        // A dead holder frees the row at once; the claim was committed in the fetch, so the job stays with its
        // (heartbeating) holder and is neither lost nor handed out twice.
        using (other.AcquireDistributedJobLock(jobId, TimeSpan.FromSeconds(30)))
        {
            other.GetJobData(jobId).ShouldNotBeNull();
        }

        Eventually.TryFetch(other, DefaultQueue, TimeSpan.FromMilliseconds(600)).ShouldBeNull();
        fetched.RemoveFromQueue();
        var monitor = _storage.GetMonitoringApi();
        monitor.EnqueuedCount("default").ShouldBe(0);
        monitor.FetchedCount("default").ShouldBe(0);
    }

    [Fact(Timeout = 120_000)]
    [Trait("Category", "Reliability")]
    public void FetchNextJob_DoesNotMakeItsOwnConnectionWait_WhenTheJobIsWrittenWithoutAskingForItsLock()
    {
        using var storage = FetchLockStorage();
        using var worker = storage.GetConnection();
        using var other = _storage.GetConnection();
        var jobId = CreateJob(worker);
        Enqueue(worker, jobId);
        using var fetched = worker.FetchNextJob(DefaultQueue, Cancellation);

        // A write of the job's row through another session would wait for the row the fetch locked on this connection
        // (innodb_lock_wait_timeout, then the retries: longer than the test's timeout); it ends that lock first.
        using (var tx = worker.CreateWriteTransaction())
        {
            tx.SetJobState(jobId, new DeletedState());
            tx.Commit();
        }

        using (other.AcquireDistributedJobLock(jobId, TimeSpan.FromSeconds(30)))
        {
            other.GetJobData(jobId)!.State.ShouldBe(DeletedState.StateName);
        }

        fetched.RemoveFromQueue();
    }

    [Fact(Timeout = 120_000)]
    [Trait("Category", "Reliability")]
    public void FetchNextJob_ClaimsTheJobWithoutItsLock_WhenAnotherConnectionHoldsTheLock()
    {
        using var storage = FetchLockStorage();
        using var worker = storage.GetConnection();
        using var other = _storage.GetConnection();
        var jobId = CreateJob(worker);
        Enqueue(worker, jobId);
        var held = other.AcquireDistributedJobLock(jobId, TimeSpan.FromSeconds(10));

        // SKIP LOCKED: the fetch neither waits for the held row nor skips the job; the worker's state change waits instead.
        using var fetched = worker.FetchNextJob(DefaultQueue, Cancellation);
        fetched.JobId.ShouldBe(jobId);
        ((MySqlStorageConnection)worker).FetchedLockSession.ShouldBeNull();
        Should.Throw<DistributedLockTimeoutException>(() => worker.AcquireDistributedJobLock(jobId, TimeSpan.FromMilliseconds(300)));
        held.Dispose();
        using (worker.AcquireDistributedJobLock(jobId, TimeSpan.FromSeconds(30)))
        {
            worker.GetJobData(jobId).ShouldNotBeNull();
        }

        fetched.RemoveFromQueue();
    }

    [Fact(Timeout = 120_000)]
    [Trait("Category", "Reliability")]
    public void AcquireDistributedJobLock_ExcludesOtherHolders_UntilTheStateCommits()
    {
        using var holder = _storage.GetConnection();
        using var contender = _storage.GetConnection();
        var jobId = CreateJob(holder);
        var held = holder.AcquireDistributedJobLock(jobId, TimeSpan.FromSeconds(10));

        // Sub-second and whole-second waits (NOWAIT polling, then FOR UPDATE WAIT n) both give up on a held row.
        Should.Throw<DistributedLockTimeoutException>(() => contender.AcquireDistributedJobLock(jobId, TimeSpan.FromMilliseconds(300)));
        Should.Throw<DistributedLockTimeoutException>(() => contender.AcquireDistributedJobLock(jobId, TimeSpan.FromSeconds(1.5)));

        using (var tx = holder.CreateWriteTransaction())
        {
            tx.SetJobState(jobId, new DeletedState());
            tx.Commit();
        }

        // The commit ended the row lock: a contender takes it before the holder's handle is disposed.
        using (contender.AcquireDistributedJobLock(jobId, TimeSpan.FromSeconds(10)))
        {
            contender.GetJobData(jobId)!.State.ShouldBe(DeletedState.StateName);
        }

        held.Dispose();
    }

    [Fact(Timeout = 120_000)]
    [Trait("Category", "Reliability")]
    public async Task AcquireDistributedJobLock_Succeeds_WhenTheHoldersSessionDies()
    {
        // Without pooling the lock's session is the only one the storage keeps open on the sessions database while the
        // lock is held; killing it is what a crashed holder looks like to the server.
        var unpooled = new MySqlConnectionStringBuilder(TestDatabase.SessionsConnectionString) { Pooling = false }.ConnectionString;
        using var storage = new MySqlStorage(unpooled, new MySqlStorageOptions { TablesPrefix = Prefix });
        using var holder = storage.GetConnection();
        using var contender = storage.GetConnection();
        var jobId = CreateJob(holder);
        using var held = holder.AcquireDistributedJobLock(jobId, TimeSpan.FromSeconds(10));
        await using (var admin = await OpenAdminAsync())
        {
            var session = await ScalarAsync<long>(admin,
                "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = @db AND ID <> CONNECTION_ID()", ("@db", TestDatabase.SessionsName));
            await ScalarAsync<object>(admin, $"KILL {session}");
        }

        using (contender.AcquireDistributedJobLock(jobId, TimeSpan.FromSeconds(30)))
        {
            contender.GetJobData(jobId).ShouldNotBeNull();
        }
    }

    [Fact(Timeout = 120_000)]
    [Trait("Category", "Reliability")]
    public async Task AcquireDistributedJobLock_IsExclusive_WhenManyConnectionsRace()
    {
        using var setup = _storage.GetConnection();
        var jobId = CreateJob(setup);
        var inside = 0;
        var most = 0;
        var tasks = Enumerable.Range(0, 6).Select(_ => Task.Run(() =>
        {
            using var connection = _storage.GetConnection();
            for (var i = 0; i < 5; i++)
            {
                using (connection.AcquireDistributedJobLock(jobId, TimeSpan.FromSeconds(60)))
                {
                    InterlockedMax(ref most, Interlocked.Increment(ref inside));
                    // Holding the lock a little while is the point of the test.
                    Thread.Sleep(10);
                    Interlocked.Decrement(ref inside);
                }
            }
        }, Cancellation)).ToArray();

        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(100), Cancellation);
        most.ShouldBe(1);
    }

    // MySqlConnector starts one activity per round trip it makes (a command or a batch, however many statements).
    private static int CountRoundTrips(Action action)
    {
        var count = 0;
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == "MySqlConnector",
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllData,
            ActivityStarted = activity =>
            {
                if (activity.OperationName == "Execute")
                {
                    Interlocked.Increment(ref count);
                }
            },
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        action();
        return Volatile.Read(ref count);
    }

    [Fact(Timeout = 60_000)]
    public async Task Scrub_ReleasesLockAndRollsBack_WhenSessionStateIsInDoubt()
    {
        await using var connection = await OpenTestDatabaseAsync();
        await ScalarAsync<long>(connection, "SELECT GET_LOCK('finstage-scrub', 0)");
        await ExecuteAsync(connection, "START TRANSACTION");

        Db.Scrub(connection);

        (await ScalarAsync<long>(connection, "SELECT IS_FREE_LOCK('finstage-scrub')")).ShouldBe(1);
        (await ScalarAsync<long>(connection, "SELECT @@in_transaction")).ShouldBe(0);
    }

    [Theory(Timeout = 10_000)]
    [InlineData("Server=db;Database=x", false)]
    [InlineData("Server=db;Database=x;Connection Reset=true", true)]
    [InlineData("Server=db;Database=x;connectionreset=false", false)]
    public async Task WithoutConnectionReset_KeepsCallersChoice_WhenConnectionStringSetsIt(string connectionString, bool reset)
    {
        new MySqlConnectionStringBuilder(Db.WithoutConnectionReset(connectionString)).ConnectionReset.ShouldBe(reset);
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task DistributedLockNames_StayWithinMySqlLimit_WhenResourceIsLong()
    {
        var name = DistributedLockNames.For(TestDatabase.Name, Prefix, "HangFire:recurring-job:" + new string('x', 200));
        name.Length.ShouldBeLessThanOrEqualTo(64);
        using var connection = _storage.GetConnection();
        using var held = connection.AcquireDistributedLock("HangFire:recurring-job:" + new string('x', 200), TimeSpan.FromSeconds(1));
        ShouldBeHeld(_storage, "HangFire:recurring-job:" + new string('x', 200));
        // Names cut to fit must still tell resources apart: one differing only past the cut is free.
        using var other = _storage.GetConnection();
        using var distinct = other.AcquireDistributedLock("HangFire:recurring-job:" + new string('x', 199) + "y", TimeSpan.FromSeconds(1));
        await Task.CompletedTask;
    }

    // Row: one connection per fetched job for the job's whole run ("Too many connections").

    [Fact(Timeout = 60_000)]
    public async Task FetchedJob_HoldsNoServerSession_WhileItIsBeingProcessed()
    {
        // Without pooling every session the storage opens is visible in the process list, and none stays idle.
        var unpooled = new MySqlConnectionStringBuilder(TestDatabase.SessionsConnectionString) { Pooling = false }.ConnectionString;
        using var storage = new MySqlStorage(unpooled, new MySqlStorageOptions { TablesPrefix = Prefix, QueuePollInterval = TimeSpan.FromMilliseconds(50) });
        using var connection = storage.GetConnection();
        for (var i = 0; i < 20; i++)
        {
            Enqueue(connection, CreateJob(connection));
        }

        var fetched = Enumerable.Range(0, 20).Select(_ => connection.FetchNextJob(DefaultQueue, Cancellation)).ToList();

        (await SessionsOnTestDatabaseAsync()).ShouldBe(0);
        foreach (var job in fetched)
        {
            job.RemoveFromQueue();
            job.Dispose();
        }
    }

    [Fact(Timeout = 60_000)]
    [Trait("Category", "Reliability")]
    public async Task FetchedJob_HoldsAtMostOneSessionPerConnection_WhenTheFetchTakesTheJobLock()
    {
        var unpooled = new MySqlConnectionStringBuilder(TestDatabase.SessionsConnectionString) { Pooling = false }.ConnectionString;
        using var storage = new MySqlStorage(unpooled, new MySqlStorageOptions { TablesPrefix = Prefix, QueuePollInterval = TimeSpan.FromMilliseconds(50), FetchTakesJobLock = true });
        using var connection = storage.GetConnection();
        for (var i = 0; i < 20; i++)
        {
            Enqueue(connection, CreateJob(connection));
        }

        var fetched = Enumerable.Range(0, 20).Select(_ => connection.FetchNextJob(DefaultQueue, Cancellation)).ToList();

        // The last fetch holds its job's state lock for the worker's next step (the state change to Processing, which
        // takes it over and ends it with its commit): one session per storage connection, none per fetched job.
        (await SessionsOnTestDatabaseAsync()).ShouldBe(1);
        using (connection.AcquireDistributedJobLock(fetched[^1].JobId, TimeSpan.FromSeconds(10)))
        {
            (await SessionsOnTestDatabaseAsync()).ShouldBe(1);
        }

        (await Eventually.TrueAsync(() => SessionsOnTestDatabaseAsync().GetAwaiter().GetResult() == 0, TimeSpan.FromSeconds(10), Cancellation)).ShouldBeTrue();
        foreach (var job in fetched)
        {
            job.RemoveFromQueue();
            job.Dispose();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task DistributedLock_HoldsExactlyOneSession_WhileHeld()
    {
        var unpooled = new MySqlConnectionStringBuilder(TestDatabase.SessionsConnectionString) { Pooling = false }.ConnectionString;
        using var storage = new MySqlStorage(unpooled, new MySqlStorageOptions { TablesPrefix = Prefix });
        using var connection = storage.GetConnection();

        using (connection.AcquireDistributedLock("one-session", TimeSpan.FromSeconds(1)))
        {
            (await SessionsOnTestDatabaseAsync()).ShouldBe(1);
        }

        (await SessionsOnTestDatabaseAsync()).ShouldBe(0);
    }

    // Row: long jobs run twice; fetch token not checked.

    [Fact(Timeout = 60_000)]
    public async Task FetchedJob_RefreshesInvisibility_WhileItIsHeld()
    {
        using var connection = _storage.GetConnection();
        Enqueue(connection, CreateJob(connection));
        using var fetched = (MySqlFetchedJob)connection.FetchNextJob(DefaultQueue, Cancellation);

        (await Eventually.TrueAsync(() => fetched.Heartbeats >= 3, TimeSpan.FromSeconds(20), Cancellation)).ShouldBeTrue();
        fetched.RemoveFromQueue();
    }

    [Fact(Timeout = 60_000)]
    public async Task RemoveFromQueue_LeavesNewOwnersEntry_WhenStaleWorkerWakesUp()
    {
        using var connection = _storage.GetConnection();
        var jobId = CreateJob(connection);
        Enqueue(connection, jobId);
        var stale = (MySqlFetchedJob)connection.FetchNextJob(DefaultQueue, Cancellation);
        stale.SimulateCrash();
        using var owner = connection.FetchNextJob(DefaultQueue, Cancellation);
        owner.JobId.ShouldBe(jobId);

        // The stale worker finishes late: its token no longer matches, so the new owner's fetch stands.
        stale.RemoveFromQueue();
        stale.Requeue();

        _storage.GetMonitoringApi().FetchedCount("default").ShouldBe(1);
        Eventually.TryFetch(connection, DefaultQueue, TimeSpan.FromMilliseconds(500)).ShouldBeNull();
        owner.RemoveFromQueue();
        _storage.GetMonitoringApi().FetchedCount("default").ShouldBe(0);
    }

    [Fact(Timeout = 120_000)]
    public async Task BackgroundJobServer_RunsLongJobOnce_WhenItOutlivesInvisibilityTimeout()
    {
        var token = Guid.NewGuid().ToString("N");
        using var server = new BackgroundJobServer(new BackgroundJobServerOptions { WorkerCount = 4, Queues = DefaultQueue }, _storage);
        new BackgroundJobClient(_storage).Enqueue(() => SlowJobs.Run(token, 5_000));

        (await Eventually.TrueAsync(() => SlowJobs.Finished(token), TimeSpan.FromSeconds(60), Cancellation)).ShouldBeTrue();
        // The job ran 2.5 times the 2 s invisibility timeout while three other workers polled the queue.
        TestJobs.RunsOf(token).ShouldBe(1);
    }

    // Row: dequeue under a global lock, LIMIT without ORDER BY, slow polling.

    [Fact(Timeout = 60_000)]
    public async Task FetchQuery_UsesQueueIndex_WhenQueueIsProbed()
    {
        await using var connection = await OpenTestDatabaseAsync();
        var plan = await QueryAsync(connection,
            $"EXPLAIN SELECT `id`, `job_id` FROM `{Prefix}job_queue` WHERE `queue` = 'default' AND (`fetched_at` IS NULL OR `fetched_at` < UTC_TIMESTAMP(6) - INTERVAL 300000000 MICROSECOND) ORDER BY `fetched_at`, `id` LIMIT 1 FOR UPDATE SKIP LOCKED",
            r => (Key: r["key"] as string, Extra: r["Extra"] as string));
        plan.ShouldHaveSingleItem().Key.ShouldBe("ix_queue_fetched_at");
        (plan[0].Extra ?? string.Empty).ShouldNotContain("filesort");
    }

    [Fact(Timeout = 60_000)]
    public async Task FetchNextJob_PicksUpJobWithinPollInterval_WhenJobArrivesWhileWaiting()
    {
        using var worker = _storage.GetConnection();
        using var client = _storage.GetConnection();
        var waiting = Task.Run(() => worker.FetchNextJob(DefaultQueue, Cancellation), Cancellation);
        var jobId = CreateJob(client);
        Enqueue(client, jobId);

        using var fetched = await waiting.WaitAsync(TimeSpan.FromSeconds(10), Cancellation);
        fetched.JobId.ShouldBe(jobId);
        fetched.RemoveFromQueue();
    }

    [Fact(Timeout = 60_000)]
    public async Task FetchNextJob_ReturnsJobWithoutWaitingForPoll_WhenSameStorageEnqueuesIt()
    {
        // A poll interval far longer than the test's timeout: only the storage's own wake-up can deliver the job.
        using var storage = TestDatabase.CreateStorage(Prefix, options => options.QueuePollInterval = TimeSpan.FromMinutes(10));
        using var worker = storage.GetConnection();
        using var client = storage.GetConnection();
        var jobId = CreateJob(client);
        var waiting = Task.Run(() => worker.FetchNextJob(DefaultQueue, Cancellation), Cancellation);
        // The worker listens from before its first look at the queue, so the job cannot slip in unnoticed.
        (await Eventually.TrueAsync(() => storage.Signal.ListenerCount == 1, TimeSpan.FromSeconds(20), Cancellation)).ShouldBeTrue();

        Enqueue(client, jobId);

        using var fetched = await waiting.WaitAsync(TimeSpan.FromSeconds(30), Cancellation);
        fetched.JobId.ShouldBe(jobId);
        fetched.RemoveFromQueue();
    }

    [Fact(Timeout = 60_000)]
    public async Task FetchNextJob_ReturnsRequeuedJobWithoutWaitingForPoll_WhenSameStorageRequeuesIt()
    {
        using var storage = TestDatabase.CreateStorage(Prefix, options => options.QueuePollInterval = TimeSpan.FromMinutes(10));
        using var connection = storage.GetConnection();
        using var worker = storage.GetConnection();
        Enqueue(connection, CreateJob(connection));
        var first = connection.FetchNextJob(DefaultQueue, Cancellation);
        var waiting = Task.Run(() => worker.FetchNextJob(DefaultQueue, Cancellation), Cancellation);
        (await Eventually.TrueAsync(() => storage.Signal.ListenerCount == 1, TimeSpan.FromSeconds(20), Cancellation)).ShouldBeTrue();

        first.Requeue();
        first.Dispose();

        using var again = await waiting.WaitAsync(TimeSpan.FromSeconds(30), Cancellation);
        again.JobId.ShouldBe(first.JobId);
        again.RemoveFromQueue();
    }

    // Row: TransactionScope promoted to XA.

    [Fact(Timeout = 60_000)]
    public async Task WriteTransaction_UsesPlainReadCommittedTransaction_WhenCommitting()
    {
        // The transaction is a local one: nothing ever shows up as an XA transaction on the server.
        using var connection = _storage.GetConnection();
        using (var tx = connection.CreateWriteTransaction())
        {
            tx.IncrementCounter("stats:xa");
            tx.Commit();
        }

        await using var admin = await OpenAdminAsync();
        (await QueryAsync(admin, "XA RECOVER", r => r.GetValue(0))).ShouldBeEmpty();
        ((JobStorageConnection)connection).GetCounter("stats:xa").ShouldBe(1);
    }

    // Row: random deadlocks between writers.

    [Fact(Timeout = 60_000)]
    public async Task InTransaction_RetriesAndCommits_WhenChosenAsDeadlockVictim()
    {
        var t = _storage.Db.Tables;
        await using (var setup = await OpenTestDatabaseAsync())
        {
            await ExecuteAsync(setup, $"INSERT INTO {t.Hash} (`key`, `field`, `value`) VALUES ('dl', 'a', '0'), ('dl', 'b', '0')");
        }

        await using var rival = await OpenTestDatabaseAsync();
        await using var rivalTx = await rival.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, Cancellation);
        // The rival writes more rows, so InnoDB picks our small transaction as the victim.
        var ballast = string.Join(", ", Enumerable.Range(0, 200).Select(i => $"('dl-ballast', '{i}')"));
        await ExecuteAsync(rival, $"INSERT INTO {t.List} (`key`, `value`) VALUES {ballast}", rivalTx);
        await ExecuteAsync(rival, $"UPDATE {t.Hash} SET `value` = 'rival' WHERE `key` = 'dl' AND `field` = 'b'", rivalTx);

        var attempts = 0;
        Task? rivalWrite = null;
        var retriedBefore = _storage.Db.RetriedCount;
        _storage.Db.InTransaction((c, tx) =>
        {
            attempts++;
            c.Execute($"UPDATE {t.Hash} SET `value` = 'ours' WHERE `key` = 'dl' AND `field` = 'a'", tx);
            if (attempts == 1)
            {
                // The rival now waits for our row a while we go for its row b: a deadlock.
                rivalWrite = Task.Run(async () =>
                {
                    await ExecuteAsync(rival, $"UPDATE {t.Hash} SET `value` = 'rival' WHERE `key` = 'dl' AND `field` = 'a'", rivalTx);
                    await rivalTx.CommitAsync();
                });
                WaitUntilBlocked(rival.ServerThread);
            }

            c.Execute($"UPDATE {t.Hash} SET `value` = 'ours' WHERE `key` = 'dl' AND `field` = 'b'", tx);
        });
        await rivalWrite!;

        attempts.ShouldBe(2);
        (_storage.Db.RetriedCount - retriedBefore).ShouldBe(1);
        using var connection = _storage.GetConnection();
        connection.GetAllEntriesFromHash("dl")!.Values.ShouldBe(["ours", "ours"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task Write_RetriesAndCommits_WhenBatchIsChosenAsDeadlockVictim()
    {
        var t = _storage.Db.Tables;
        await using (var setup = await OpenTestDatabaseAsync())
        {
            await ExecuteAsync(setup, $"INSERT INTO {t.Hash} (`key`, `field`, `value`) VALUES ('dlb', 'a', '0'), ('dlb', 'b', '0')");
        }

        await using var rival = await OpenTestDatabaseAsync();
        await using var rivalTx = await rival.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, Cancellation);
        // The rival holds row b and has written more, so InnoDB picks our batch as the victim.
        var ballast = string.Join(", ", Enumerable.Range(0, 200).Select(i => $"('dlb-ballast', '{i}')"));
        await ExecuteAsync(rival, $"INSERT INTO {t.List} (`key`, `value`) VALUES {ballast}", rivalTx);
        await ExecuteAsync(rival, $"UPDATE {t.Hash} SET `value` = 'rival' WHERE `key` = 'dlb' AND `field` = 'b'", rivalTx);

        var retriedBefore = _storage.Db.RetriedCount;
        // One round trip: row a, then row b, which waits for the rival.
        var ours = Task.Run(() => _storage.Db.Write(
        [
            new Statement($"UPDATE {t.Hash} SET `value` = 'ours' WHERE `key` = 'dlb' AND `field` = 'a'"),
            new Statement($"UPDATE {t.Hash} SET `value` = 'ours' WHERE `key` = 'dlb' AND `field` = 'b'"),
        ]), Cancellation);
        WaitUntilBatchWaits("'ours'");
        // Now the rival goes for row a, which our batch holds: a deadlock.
        await ExecuteAsync(rival, $"UPDATE {t.Hash} SET `value` = 'rival' WHERE `key` = 'dlb' AND `field` = 'a'", rivalTx);
        await rivalTx.CommitAsync(Cancellation);
        await ours;

        (_storage.Db.RetriedCount - retriedBefore).ShouldBe(1);
        using var connection = _storage.GetConnection();
        connection.GetAllEntriesFromHash("dlb")!.Values.ShouldBe(["ours", "ours"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task WriteTransaction_CommitsNothing_WhenAStatementFailsPartWay()
    {
        using var connection = (JobStorageConnection)_storage.GetConnection();
        using (var tx = connection.CreateWriteTransaction())
        {
            // Written in table order: the counter first, then the set (whose value is too long), then the hash.
            tx.IncrementCounter("stats:partial");
            tx.AddToSet("partial", new string('v', 300));
            tx.SetRangeInHash("partial", [new("field", "value")]);
            Should.Throw<MySqlException>(tx.Commit);
        }

        connection.GetCounter("stats:partial").ShouldBe(0);
        connection.GetAllItemsFromSet("partial").ShouldBeEmpty();
        connection.GetAllEntriesFromHash("partial").ShouldBeNull();
        // The failed batch's session went back to the pool with its transaction rolled back, not open.
        _storage.Db.Use(c => c.Scalar<long>("SELECT @@in_transaction")).ShouldBe(0);
        await Task.CompletedTask;
    }

    [Fact(Timeout = 120_000)]
    public async Task WriteTransactions_AllCommit_WhenManyWritersTouchTheSameKeysInDifferentOrders()
    {
        void Writer(int seed)
        {
            var random = new Random(seed);
            using var connection = _storage.GetConnection();
            for (var i = 0; i < 25; i++)
            {
                using var tx = connection.CreateWriteTransaction();
                foreach (var key in Enumerable.Range(0, 4).OrderBy(_ => random.Next()))
                {
                    tx.AddToSet($"set-{key}", $"v{random.Next(5)}", random.Next(100));
                    tx.SetRangeInHash($"hash-{key}", [new($"f{random.Next(3)}", "x"), new($"f{random.Next(3)}", "y")]);
                    tx.IncrementCounter($"counter-{key}");
                }

                tx.Commit();
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 6).Select(seed => Task.Run(() => Writer(seed), Cancellation)));

        using var connection = (JobStorageConnection)_storage.GetConnection();
        Enumerable.Range(0, 4).Sum(k => connection.GetCounter($"counter-{k}")).ShouldBe(6 * 25 * 4);
    }

    // Row: no index on ExpireAt or set (key, score); expiry in small batches.

    [Fact(Timeout = 60_000)]
    public async Task Schema_HasIndexes_ForFetchScheduleAndExpiry()
    {
        await using var connection = await OpenTestDatabaseAsync();
        var indexes = await QueryAsync(connection,
            "SELECT TABLE_NAME, INDEX_NAME, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE @prefix GROUP BY TABLE_NAME, INDEX_NAME",
            r => $"{r.GetString(0)[Prefix.Length..]}:{r.GetString(2)}", ("@prefix", Prefix + "%"));

        indexes.ShouldContain("job_queue:queue,fetched_at,id");
        indexes.ShouldContain("set:key,score");
        indexes.ShouldContain("set:key,value");
        indexes.ShouldContain("job:state_name,id");
        foreach (var table in new[] { "job", "set", "hash", "list", "aggregated_counter" })
        {
            indexes.ShouldContain($"{table}:expire_at");
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task ExpirationManager_RemovesAllExpiredRowsInBatches_WhenMoreThanOneBatchExpired()
    {
        using var connection = _storage.GetConnection();
        using (var tx = (JobStorageTransaction)connection.CreateWriteTransaction())
        {
            tx.AddRangeToSet("expiring", Enumerable.Range(0, 25).Select(i => $"v{i}").ToList());
            tx.ExpireSet("expiring", TimeSpan.FromMilliseconds(1));
            tx.AddToSet("kept", "v");
            tx.Commit();
        }

        var manager = new ExpirationManager(_storage.Db, TimeSpan.FromMinutes(1), batchSize: 10);
        (await Eventually.TrueAsync(() => manager.RemoveExpired(Cancellation) > 0 || ((JobStorageConnection)connection).GetSetCount("expiring") == 0,
            TimeSpan.FromSeconds(10), Cancellation)).ShouldBeTrue();

        ((JobStorageConnection)connection).GetSetCount("expiring").ShouldBe(0);
        ((JobStorageConnection)connection).GetSetCount("kept").ShouldBe(1);
    }

    [Fact(Timeout = 60_000)]
    public async Task ExpirationManager_RemovesJobWithStatesAndParameters_WhenJobExpired()
    {
        using var connection = _storage.GetConnection();
        var jobId = new BackgroundJobClient(_storage).Enqueue(() => TestJobs.Record("expired"));
        using (var tx = connection.CreateWriteTransaction())
        {
            tx.ExpireJob(jobId, TimeSpan.FromMilliseconds(1));
            tx.Commit();
        }

        var manager = new ExpirationManager(_storage.Db, TimeSpan.FromMinutes(1), batchSize: 10);
        (await Eventually.TrueAsync(() =>
        {
            manager.RemoveExpired(Cancellation);
            return connection.GetJobData(jobId) is null;
        }, TimeSpan.FromSeconds(10), Cancellation)).ShouldBeTrue();

        await using var db = await OpenTestDatabaseAsync();
        (await ScalarAsync<long>(db, $"SELECT COUNT(*) FROM `{Prefix}state` WHERE `job_id` = @id", ("@id", jobId))).ShouldBe(0);
        (await ScalarAsync<long>(db, $"SELECT COUNT(*) FROM `{Prefix}job_parameter` WHERE `job_id` = @id", ("@id", jobId))).ShouldBe(0);
        (await ScalarAsync<long>(db, $"SELECT COUNT(*) FROM `{Prefix}job_queue` WHERE `job_id` = @id", ("@id", jobId))).ShouldBe(0);
    }

    [Fact(Timeout = 60_000)]
    public async Task CountersAggregator_FoldsRawRows_WhenCountersWereIncremented()
    {
        using var connection = (JobStorageConnection)_storage.GetConnection();
        for (var i = 0; i < 3; i++)
        {
            using var tx = connection.CreateWriteTransaction();
            for (var j = 0; j < 9; j++)
            {
                tx.IncrementCounter("stats:succeeded");
            }

            tx.DecrementCounter("stats:succeeded", TimeSpan.FromDays(1));
            tx.Commit();
        }

        new CountersAggregator(_storage.Db, TimeSpan.FromMinutes(1), batchSize: 7).Aggregate(Cancellation).ShouldBe(30);

        connection.GetCounter("stats:succeeded").ShouldBe(24);
        await using var db = await OpenTestDatabaseAsync();
        (await ScalarAsync<long>(db, $"SELECT COUNT(*) FROM `{Prefix}counter`")).ShouldBe(0);
        (await ScalarAsync<long>(db, $"SELECT `value` FROM `{Prefix}aggregated_counter` WHERE `key` = 'stats:succeeded'")).ShouldBe(24);
        _storage.GetMonitoringApi().GetStatistics().Succeeded.ShouldBe(24);
    }

    // Row: "Specified key was too long" with utf8 and long unique keys.

    [Fact(Timeout = 60_000)]
    public async Task Storage_StoresFullLengthKeysAndFourByteCharacters_WhenValuesAreLong()
    {
        using var connection = (JobStorageConnection)_storage.GetConnection();
        var key = new string('k', 99) + "🙂"[0];
        var longKey = "tags:" + new string('é', 90) + "🙂";
        var value = new string('v', 250) + "🙂";
        using (var tx = connection.CreateWriteTransaction())
        {
            tx.AddToSet(longKey, value);
            tx.SetRangeInHash("emoji", [new("field🙂", "value 🙂 ünïcödé")]);
            tx.Commit();
        }

        connection.GetSetContains(longKey, value).ShouldBeTrue();
        connection.GetValueFromHash("emoji", "field🙂").ShouldBe("value 🙂 ünïcödé");
        key.Length.ShouldBe(100);
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task Schema_UsesUtf8mb4AndBinaryCollation_ForEveryTable()
    {
        await using var connection = await OpenTestDatabaseAsync();
        var collations = await QueryAsync(connection,
            "SELECT DISTINCT TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE @prefix",
            r => r.GetString(0), ("@prefix", Prefix + "%"));
        collations.ShouldBe(["utf8mb4_bin"]);
    }

    // Schema creation and upgrade are idempotent.

    [Fact(Timeout = 60_000)]
    public async Task Install_IsIdempotent_WhenStorageStartsAgainOrInParallel()
    {
        var starts = Enumerable.Range(0, 3).Select(_ => Task.Run(
            () => new MySqlStorage(TestDatabase.ConnectionString, new MySqlStorageOptions { TablesPrefix = Prefix }).Dispose(), Cancellation));
        await Task.WhenAll(starts);

        await using var connection = await OpenTestDatabaseAsync();
        (await ScalarAsync<long>(connection, $"SELECT COUNT(*) FROM `{Prefix}schema`")).ShouldBe(1);
        (await ScalarAsync<int>(connection, $"SELECT MAX(`version`) FROM `{Prefix}schema`")).ShouldBe(MySqlSchema.CurrentVersion);
    }

    [Fact(Timeout = 60_000)]
    [Trait("Category", "Reliability")]
    public async Task InstallSchema_BringsMissingTablesToCurrentVersion_WhenRunTwice()
    {
        const string prefix = "hf_install_";
        await DropTablesAsync(prefix);
        var options = new MySqlStorageOptions { TablesPrefix = prefix };
        var before = MySqlStorage.GetInstalledSchemaVersion(TestDatabase.RuntimeConnectionString, options);

        MySqlStorage.InstallSchema(TestDatabase.ConnectionString, options);
        MySqlStorage.InstallSchema(TestDatabase.ConnectionString, options);

        before.ShouldBe(0);
        MySqlStorage.GetInstalledSchemaVersion(TestDatabase.RuntimeConnectionString, options).ShouldBe(MySqlStorage.SchemaVersion);
        await using var connection = await OpenTestDatabaseAsync();
        (await ScalarAsync<long>(connection, $"SELECT COUNT(*) FROM `{prefix}schema`")).ShouldBe(1);
    }

    [Fact(Timeout = 60_000)]
    [Trait("Category", "Reliability")]
    public async Task InstallSchema_IsRefused_WhenUserMayOnlyReadAndWriteRows()
    {
        const string prefix = "hf_refused_";
        await DropTablesAsync(prefix);
        var options = new MySqlStorageOptions { TablesPrefix = prefix };

        var refused = Should.Throw<MySqlException>(() => MySqlStorage.InstallSchema(TestDatabase.RuntimeConnectionString, options));

        refused.ErrorCode.ShouldBe(MySqlErrorCode.TableAccessDenied);
        MySqlStorage.GetInstalledSchemaVersion(TestDatabase.ConnectionString, options).ShouldBe(0);
    }

    [Fact(Timeout = 60_000)]
    public async Task Install_CreatesSeparateTables_WhenPrefixDiffers()
    {
        using var other = TestDatabase.CreateStorage("hf_other_");
        using (var connection = other.GetConnection())
        using (var tx = connection.CreateWriteTransaction())
        {
            tx.AddToSet("only-in-other", "v");
            tx.Commit();
        }

        using var mine = _storage.GetConnection();
        mine.GetAllItemsFromSet("only-in-other").ShouldBeEmpty();
        await Task.CompletedTask;
    }

    // Row: blank dashboard pages on MySQL 8 / MariaDB (user variables, reserved words).

    [Fact(Timeout = 120_000)]
    public async Task MonitoringApi_AnswersEveryDashboardQuery_WhenJobsAreInEveryState()
    {
        var client = new BackgroundJobClient(_storage);
        var parent = client.Enqueue(() => TestJobs.Record("dashboard"));
        client.ContinueJobWith(parent, () => TestJobs.Record("dashboard-continuation"));
        client.Schedule(() => TestJobs.Record("dashboard"), TimeSpan.FromHours(1));
        var deleted = client.Enqueue(() => TestJobs.Record("dashboard"));
        client.Delete(deleted);
        client.Create(() => TestJobs.RecordWithoutRetry("dashboard"), new FailedState(new InvalidOperationException("boom")));
        using (var connection = _storage.GetConnection())
        {
            connection.AnnounceServer("dashboard-server", new ServerContext { WorkerCount = 1, Queues = DefaultQueue });
        }

        var api = (JobStorageMonitor)_storage.GetMonitoringApi();
        api.GetStatistics().Awaiting.ShouldBe(1);
        api.AwaitingCount().ShouldBe(1);
        api.AwaitingJobs(0, 10).ShouldHaveSingleItem().Value.InAwaitingState.ShouldBeTrue();
        api.ProcessingJobs(0, 10).ShouldBeEmpty();
        api.FailedJobs(0, 10).ShouldHaveSingleItem().Value.ExceptionMessage.ShouldBe("boom");
        // A deleted job keeps its queue entry until a worker takes and drops it; the page shows it as not enqueued.
        var firstJobs = api.Queues().ShouldHaveSingleItem().FirstJobs;
        firstJobs.Single(j => j.Key == parent).Value.InEnqueuedState.ShouldBeTrue();
        firstJobs.Single(j => j.Key == deleted).Value.InEnqueuedState.ShouldBeFalse();
        api.Servers().ShouldHaveSingleItem();
        api.JobDetails(parent).ShouldNotBeNull().Properties.ShouldContainKey("CurrentCulture");
        api.HourlyDeletedJobs().Values.Sum().ShouldBe(1);
        api.DeletedByDatesCount().Count.ShouldBe(7);
        api.HourlySucceededJobs().Count.ShouldBe(24);
        api.SucceededByDatesCount().Count.ShouldBe(7);
        api.FetchedJobs("default", 0, 10).ShouldBeEmpty();
        _storage.HasFeature(JobStorageFeatures.Monitoring.AwaitingJobs).ShouldBeTrue();
        _storage.HasFeature(JobStorageFeatures.Connection.BatchedGetFirstByLowest).ShouldBeTrue();
        _storage.HasFeature(JobStorageFeatures.ExtendedApi).ShouldBeTrue();
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task GlobalConfiguration_UsesMySqlStorage_WhenExtensionIsCalled()
    {
        JobStorage? previous = null;
        try
        {
            previous = JobStorage.Current;
        }
        catch (InvalidOperationException)
        {
            // Nothing configured yet.
        }

        try
        {
            var configured = GlobalConfiguration.Configuration.UseMySqlStorage(TestDatabase.ConnectionString, new MySqlStorageOptions { TablesPrefix = Prefix });
            JobStorage.Current.ShouldBeOfType<MySqlStorage>().Options.TablesPrefix.ShouldBe(Prefix);
            configured.Entry.Dispose();
        }
        finally
        {
            JobStorage.Current = previous!;
        }

        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task Constructor_SharesCallersDataSource_WhenGivenOneFromServiceCollection()
    {
        await using var dataSource = new MySqlDataSource(TestDatabase.ConnectionString);
        using (var storage = new MySqlStorage(dataSource, new MySqlStorageOptions { TablesPrefix = Prefix }))
        using (var connection = storage.GetConnection())
        {
            connection.GetAllItemsFromSet("anything").ShouldBeEmpty();
        }

        // The storage did not own the data source, so disposing it left the pool usable.
        await using var open = await dataSource.OpenConnectionAsync(Cancellation);
        open.State.ShouldBe(System.Data.ConnectionState.Open);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("bad-prefix")]
    [InlineData("drop table;")]
    [InlineData("")]
    public async Task Constructor_Throws_WhenTablesPrefixIsNotAPlainIdentifier(string prefix)
    {
        Should.Throw<ArgumentException>(() => new MySqlStorage(TestDatabase.ConnectionString, new MySqlStorageOptions { TablesPrefix = prefix }));
        await Task.CompletedTask;
    }

    [Theory(Timeout = 60_000)]
    [InlineData(2)]
    [InlineData(86_401)]
    public async Task Constructor_Throws_WhenTheLockSessionTimeoutIsOutsideThreeSecondsToADay(int seconds)
    {
        var failure = Should.Throw<ArgumentOutOfRangeException>(() => new MySqlStorage(TestDatabase.ConnectionString,
            new MySqlStorageOptions { TablesPrefix = Prefix, DistributedLockSessionTimeout = TimeSpan.FromSeconds(seconds) }));

        failure.ParamName.ShouldBe(nameof(MySqlStorageOptions.DistributedLockSessionTimeout));
        await Task.CompletedTask;
    }

    // ---- Helpers -----------------------------------------------------------------------------

    private static string CreateJob(IStorageConnection connection, params (string Name, string Value)[] parameters) =>
        connection.CreateExpiredJob(Job.FromExpression(() => TestJobs.Record("queued")),
            parameters.ToDictionary(p => p.Name, p => (string?)p.Value), DateTime.UtcNow, TimeSpan.FromHours(1));

    private static void Enqueue(IStorageConnection connection, string jobId)
    {
        using var tx = connection.CreateWriteTransaction();
        tx.AddToQueue("default", jobId);
        tx.Commit();
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    private static void WaitUntilBlocked(int session)
    {
        // A session still running its one-row UPDATE is waiting for our row lock; the user sees its own sessions.
        using var admin = new MySqlConnection(TestDatabase.AdminConnectionString);
        admin.Open();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            using var command = new MySqlCommand("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = @id AND COMMAND = 'Query' AND INFO LIKE 'UPDATE%'", admin);
            command.Parameters.AddWithValue("@id", session);
            if (Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0)
            {
                return;
            }

            Thread.Yield();
        }

        throw new TimeoutException("The rival transaction never started waiting.");
    }

    private static void WaitUntilBatchWaits(string marker)
    {
        // Our batch's session has been running its query for a second: its first UPDATE takes microseconds, so it
        // is waiting for the rival's row lock in its second. (The lock-wait tables need the PROCESS privilege.)
        using var admin = new MySqlConnection(TestDatabase.AdminConnectionString);
        admin.Open();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            using var command = new MySqlCommand(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND = 'Query' AND TIME_MS > 1000 AND INFO LIKE @marker AND ID <> CONNECTION_ID()", admin);
            command.Parameters.AddWithValue("@marker", $"%{marker}%");
            if (Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0)
            {
                return;
            }

            Thread.Sleep(50);
        }

        throw new TimeoutException("Our batch never started waiting.");
    }

    private static async Task<long> SessionsOnTestDatabaseAsync()
    {
        await using var admin = await OpenAdminAsync();
        return await ScalarAsync<long>(admin,
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = @db AND ID <> CONNECTION_ID()", ("@db", TestDatabase.SessionsName));
    }

    private static async Task<MySqlConnection> OpenAdminAsync()
    {
        var connection = new MySqlConnection(new MySqlConnectionStringBuilder(TestDatabase.AdminConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync(Cancellation);
        return connection;
    }

    private static async Task DropTablesAsync(string prefix)
    {
        await using var connection = await OpenTestDatabaseAsync();
        var tables = await QueryAsync(connection,
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE @prefix",
            r => r.GetString(0), ("@prefix", prefix.Replace("_", "\\_", StringComparison.Ordinal) + "%"));
        foreach (var table in tables)
        {
            await using var drop = new MySqlCommand($"DROP TABLE `{table}`", connection);
            await drop.ExecuteNonQueryAsync(Cancellation);
        }
    }

    private static async Task<MySqlConnection> OpenTestDatabaseAsync()
    {
        var connection = new MySqlConnection(TestDatabase.ConnectionString);
        await connection.OpenAsync(Cancellation);
        return connection;
    }

    private static async Task ExecuteAsync(MySqlConnection connection, string sql, MySqlTransaction? transaction = null)
    {
        await using var command = new MySqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(Cancellation);
    }

    private static async Task<T> ScalarAsync<T>(MySqlConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        await using var command = new MySqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        var result = await command.ExecuteScalarAsync(Cancellation);
        return result is null or DBNull ? default! : (T)Convert.ChangeType(result, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<List<T>> QueryAsync<T>(MySqlConnection connection, string sql, Func<MySqlDataReader, T> map, params (string Name, object? Value)[] parameters)
    {
        await using var command = new MySqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await using var reader = await command.ExecuteReaderAsync(Cancellation);
        var result = new List<T>();
        while (await reader.ReadAsync(Cancellation))
        {
            result.Add(map(reader));
        }

        return result;
    }
}

/// <summary>A job that outlives the invisibility timeout; it records its runs so a second run would show.</summary>
public static class SlowJobs
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> Done = new(StringComparer.Ordinal);

    public static void Run(string token, int milliseconds)
    {
        TestJobs.Record(token);
        // The job's work is waiting; this is the job body, not test synchronisation.
        Thread.Sleep(milliseconds);
        Done[token] = true;
    }

    public static bool Finished(string token) => Done.ContainsKey(token);
}
