namespace Finstage.Hangfire.MySql.Tests;

/// <summary>The in-process wake-up of idle workers; no database involved.</summary>
[Trait("Lane", "Fast")]
public sealed class QueueSignalTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact(Timeout = 10_000)]
    public async Task Notify_WakesOneListenerOfThatQueue_WhenSeveralWait()
    {
        var signal = new QueueSignal();
        using var first = signal.Listen(["default"]);
        using var second = signal.Listen(["default"]);

        signal.Notify("default");

        first.Wait(TimeSpan.Zero, Cancellation).ShouldBeTrue();
        second.Wait(TimeSpan.Zero, Cancellation).ShouldBeFalse();
        await Task.CompletedTask;
    }

    [Fact(Timeout = 10_000)]
    public async Task Notify_SkipsListenersOfOtherQueues_WhenJobIsForAnotherQueue()
    {
        var signal = new QueueSignal();
        using var critical = signal.Listen(["critical"]);
        using var both = signal.Listen(["critical", "default"]);

        signal.Notify("default");

        critical.Wait(TimeSpan.Zero, Cancellation).ShouldBeFalse();
        both.Wait(TimeSpan.Zero, Cancellation).ShouldBeTrue();
        await Task.CompletedTask;
    }

    [Fact(Timeout = 10_000)]
    public async Task Dispose_HandsUnusedWakeToNextListener_WhenWokenWorkerTookAnotherJob()
    {
        var signal = new QueueSignal();
        var busy = signal.Listen(["default"]);
        using var idle = signal.Listen(["default"]);
        signal.Notify("default");

        // The first worker found a job by itself and stops listening without having waited.
        busy.Dispose();

        idle.Wait(TimeSpan.Zero, Cancellation).ShouldBeTrue();
        signal.ListenerCount.ShouldBe(1);
        await Task.CompletedTask;
    }

    [Fact(Timeout = 10_000)]
    public async Task Dispose_KeepsWakeToItself_WhenWokenWorkerWaitedForIt()
    {
        var signal = new QueueSignal();
        var woken = signal.Listen(["default"]);
        using var other = signal.Listen(["default"]);
        signal.Notify("default");

        woken.Wait(TimeSpan.Zero, Cancellation).ShouldBeTrue();
        woken.Dispose();

        other.Wait(TimeSpan.Zero, Cancellation).ShouldBeFalse();
        await Task.CompletedTask;
    }

    [Fact(Timeout = 10_000)]
    public async Task FoundEmpty_IsTrue_WhenProbeFoundNothingAndNothingWasEnqueued()
    {
        var signal = new QueueSignal();
        signal.FoundEmpty(["default"]).ShouldBeFalse();

        signal.Probed(["default"], found: false, signal.Notifications);

        signal.FoundEmpty(["default"]).ShouldBeTrue();
        signal.FoundEmpty(["default", "critical"]).ShouldBeFalse();
        await Task.CompletedTask;
    }

    [Fact(Timeout = 10_000)]
    public async Task FoundEmpty_IsFalse_WhenJobWasEnqueuedWhileProbeRan()
    {
        var signal = new QueueSignal();
        var before = signal.Notifications;
        signal.Notify("default");

        signal.Probed(["default"], found: false, before);

        signal.FoundEmpty(["default"]).ShouldBeFalse();
        await Task.CompletedTask;
    }

    [Fact(Timeout = 10_000)]
    public async Task FoundEmpty_IsFalse_WhenJobWasEnqueuedAfterEmptyProbe()
    {
        var signal = new QueueSignal();
        signal.Probed(["default"], found: false, signal.Notifications);

        signal.Notify("default");

        signal.FoundEmpty(["default"]).ShouldBeFalse();
        await Task.CompletedTask;
    }
}
