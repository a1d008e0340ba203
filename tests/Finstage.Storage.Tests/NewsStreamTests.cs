using System.Net;
using Finstage.Contracts;
using Finstage.Testing;

namespace Finstage.Storage.Tests;

/// <summary>
/// Issue 16, the live stream: GET /api/news/stream read as curl would (raw HTTP, frames parsed here) from the storage
/// running as its own process, fed by <see cref="ArticlesStored"/> events published on the real RabbitMQ.
/// Waits are tens of seconds: the machine is shared, and only the order and content are asserted, never a speed.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class NewsStreamTests(StreamFixture fixture) : IClassFixture<StreamFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact(Timeout = 300_000)]
    public async Task Stream_SendsEachClientOnlyTheArticlesOfItsSymbolsAndSources_WhenFiltered()
    {
        var ct = TestContext.Current.CancellationToken;
        using var http = SseConnection.CreateClient(fixture.Storage.BaseAddress);
        using var pair = await SseConnection.OpenAsync(http, "/api/news/stream?symbol=AAPL&symbol=tsla", ct);
        using var all = await SseConnection.OpenAsync(http, "/api/news/stream", ct);
        using var google = await SseConnection.OpenAsync(http, "/api/news/stream?source=google", ct);

        var apple = fixture.Stored("AAPL", articles: 2);
        var microsoft = fixture.Stored("MSFT");
        var tesla = fixture.Stored("TSLA", source: "google");
        foreach (var stored in new[] { apple, microsoft, tesla })
        {
            await fixture.Bus.PublishAsync(stored, ct);
        }

        var everything = await all.ReadEventsAsync(4, Patience, ct);
        everything.Select(e => e.Field("title")).ShouldBe([apple.Articles[0].Title, apple.Articles[1].Title, microsoft.Articles[0].Title, tesla.Articles[0].Title]);
        var first = everything[0];
        first.Event.ShouldBe("article");
        first.Id.ShouldBe($"{apple.Sequence}-0");
        first.Field("position").ShouldBe(first.Id);
        first.Field("id").ShouldBe(apple.Articles[0].Id);
        first.Field("url").ShouldBe(apple.Articles[0].Url);
        first.Field("symbol").ShouldBe("AAPL");
        first.Field("source").ShouldBe("yahoo");
        first.Field("publisher").ShouldBe("Example News");
        DateTimeOffset.Parse(first.Field("publishedAt"), System.Globalization.CultureInfo.InvariantCulture).ShouldBe(apple.Articles[0].PublishedAt!.Value);
        everything[1].Id.ShouldBe($"{apple.Sequence}-1");

        // Symbols in any case; MSFT is neither.
        (await pair.ReadEventsAsync(3, Patience, ct)).Select(e => e.Field("title"))
            .ShouldBe([apple.Articles[0].Title, apple.Articles[1].Title, tesla.Articles[0].Title]);
        (await google.ReadEventsAsync(1, Patience, ct)).Single().Field("title").ShouldBe(tesla.Articles[0].Title);

        // Nothing more for the filtered ones: the next event each gets is the next that matches.
        var later = fixture.Stored("TSLA", source: "google");
        await fixture.Bus.PublishAsync(fixture.Stored("NVDA"), ct);
        await fixture.Bus.PublishAsync(later, ct);
        (await pair.ReadEventsAsync(1, Patience, ct)).Single().Field("title").ShouldBe(later.Articles[0].Title);
        (await google.ReadEventsAsync(1, Patience, ct)).Single().Field("title").ShouldBe(later.Articles[0].Title);
    }

    [Fact(Timeout = 300_000)]
    public async Task Stream_ReplaysExactlyWhatWasMissed_WhenReconnectingWithLastEventId()
    {
        var ct = TestContext.Current.CancellationToken;
        using var http = SseConnection.CreateClient(fixture.Storage.BaseAddress);
        const string Path = "/api/news/stream?symbol=RSME";
        string lastId;
        using (var first = await SseConnection.OpenAsync(http, Path, ct))
        {
            await fixture.Bus.PublishAsync(fixture.Stored("RSME", articles: 2), ct);
            lastId = (await first.ReadEventsAsync(2, Patience, ct))[^1].Id!;
        }

        // Missed while away: three more, and one of another symbol, plus a redelivery of one (at-least-once) that must not come twice.
        var missed = new[] { fixture.Stored("RSME"), fixture.Stored("RSME", articles: 2) };
        await fixture.Bus.PublishAsync(missed[0], ct);
        await fixture.Bus.PublishAsync(fixture.Stored("OTHER"), ct);
        await fixture.Bus.PublishAsync(missed[1], ct);
        await fixture.Bus.PublishAsync(missed[0], ct);
        // A marker after them, seen by a plain client, so they are all in the instance before the reconnect.
        using (var watcher = await SseConnection.OpenAsync(http, "/api/news/stream?symbol=MARK", ct))
        {
            await fixture.Bus.PublishAsync(fixture.Stored("MARK"), ct);
            await watcher.ReadEventsAsync(1, Patience, ct);
        }

        using var resumed = await SseConnection.OpenAsync(http, Path, ct, lastEventId: lastId);
        var live = fixture.Stored("RSME");
        await fixture.Bus.PublishAsync(live, ct);
        var replayed = await resumed.ReadEventsAsync(4, Patience, ct);
        replayed.Select(e => e.Field("title")).ShouldBe(
            [missed[0].Articles[0].Title, missed[1].Articles[0].Title, missed[1].Articles[1].Title, live.Articles[0].Title]);
        replayed.Select(e => e.Id).ShouldBe([$"{missed[0].Sequence}-0", $"{missed[1].Sequence}-0", $"{missed[1].Sequence}-1", $"{live.Sequence}-0"]);

        // The same through the query parameter (EventSource cannot set headers on its first request).
        using var byParameter = await SseConnection.OpenAsync(http, Path + "&lastEventId=" + lastId, ct);
        (await byParameter.ReadEventsAsync(4, Patience, ct)).Select(e => e.Id).ShouldBe(replayed.Select(e => e.Id));
    }

    [Fact(Timeout = 300_000)]
    public async Task Stream_SaysThereIsAGap_WhenTheLastEventIdIsNotInTheReplayWindow()
    {
        var ct = TestContext.Current.CancellationToken;
        using var http = SseConnection.CreateClient(fixture.Storage.BaseAddress);
        using var unknown = await SseConnection.OpenAsync(http, "/api/news/stream?symbol=GAPS", ct, lastEventId: "1-0x");
        var notice = (await unknown.ReadEventsAsync(1, Patience, ct)).Single();
        notice.Event.ShouldBe("gap");
        notice.Field("reason").ShouldBe("unknown-position");

        // A well-formed position this instance never held (older than its window): the gap, then what the window has after it.
        var after = fixture.Stored("GAPS");
        using (var watcher = await SseConnection.OpenAsync(http, "/api/news/stream?symbol=GAPS", ct))
        {
            await fixture.Bus.PublishAsync(after, ct);
            await watcher.ReadEventsAsync(1, Patience, ct);
        }
        using var old = await SseConnection.OpenAsync(http, "/api/news/stream?symbol=GAPS", ct, lastEventId: "0-7");
        var frames = await old.ReadEventsAsync(2, Patience, ct);
        frames[0].Event.ShouldBe("gap");
        frames[0].Field("reason").ShouldBe("outside-replay-window");
        frames[1].Id.ShouldBe($"{after.Sequence}-0");
    }

    [Theory(Timeout = 120_000)]
    [Trait("Category", "Security")]
    [InlineData("symbol=AAPL%00", "symbol")]
    [InlineData("source=ya%0Ahoo", "source")]
    [InlineData("symbol=", "symbol", 129)]
    [InlineData("source=", "source", 33)]
    [InlineData("many", "symbol")]
    public async Task Stream_Returns400NamingTheParameter_WhenAFilterIsHostile(string query, string parameter, int repeat = 0)
    {
        var ct = TestContext.Current.CancellationToken;
        using var http = SseConnection.CreateClient(fixture.Storage.BaseAddress);
        var path = query == "many"
            ? "/api/news/stream?" + string.Join('&', Enumerable.Range(0, 101).Select(i => $"symbol=S{i}"))
            : "/api/news/stream?" + query + new string('X', repeat);
        var (connection, response) = await SseConnection.TryOpenAsync(http, path, ct);
        using (response)
        {
            connection.ShouldBeNull();
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            using var problem = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            problem.RootElement.GetProperty("errors").EnumerateObject().Select(e => e.Name).ShouldBe([parameter]);
        }
    }

    [Fact(Timeout = 300_000)]
    [Trait("Category", "Security")]
    public async Task Stream_DropsEventsThatBreakTheContract_WhenSomeoneWithBrokerAccessPublishesThem()
    {
        var ct = TestContext.Current.CancellationToken;
        using var http = SseConnection.CreateClient(fixture.Storage.BaseAddress);
        using var client = await SseConnection.OpenAsync(http, "/api/news/stream?symbol=HOSTILE", ct);

        ArticlesStored WithArticle(Func<StoredArticle, StoredArticle> change)
        {
            var stored = fixture.Stored("HOSTILE");
            return stored with { Articles = [change(stored.Articles[0])] };
        }
        // A link the page would put in an href, a position the stream could not read back, no event id to de-duplicate on,
        // no article id to link to.
        var hostile = new[]
        {
            WithArticle(article => article with { Url = "javascript:alert(document.domain)" }),
            fixture.Stored("HOSTILE") with { Sequence = -7 },
            fixture.Stored("HOSTILE") with { EventId = Guid.Empty },
            WithArticle(article => article with { Id = " " }),
        };
        foreach (var stored in hostile)
        {
            await fixture.Bus.PublishAsync(stored, ct);
        }
        var sound = fixture.Stored("HOSTILE");
        await fixture.Bus.PublishAsync(sound, ct);

        // One consumer, in order: the first article the client gets is the sound one, so none of the others was streamed.
        var first = (await client.ReadEventsAsync(1, Patience, ct)).Single();
        first.Field("title").ShouldBe(sound.Articles[0].Title);
        first.Id.ShouldBe($"{sound.Sequence}-0");
        fixture.Storage.HasExited.ShouldBeFalse();
    }

    [Fact(Timeout = 300_000)]
    public async Task Stream_SendsCommentHeartbeats_WhenNoArticlesCome()
    {
        var ct = TestContext.Current.CancellationToken;
        using var http = SseConnection.CreateClient(fixture.Storage.BaseAddress);
        using var stream = await SseConnection.OpenAsync(http, "/api/news/stream?symbol=QUIET", ct);
        stream.Response.Headers.CacheControl!.NoStore.ShouldBeTrue();
        stream.Response.Headers.GetValues("X-Accel-Buffering").ShouldBe(["no"]);

        var opening = await stream.ReadFrameAsync(ct);
        opening!.Retry.ShouldBe("3000");
        // The fixture's instance beats every second; three in a row with nothing else, within a generous minute.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(Patience);
        for (var beat = 0; beat < 3; beat++)
        {
            var frame = await stream.ReadFrameAsync(deadline.Token);
            frame.ShouldNotBeNull();
            frame.IsCommentOnly.ShouldBeTrue($"a comment-only frame, not {frame}");
        }
    }

    [Fact(Timeout = 600_000)]
    public async Task Stream_CutsOffOnlyTheClientThatStopsReading_WithAReasonAndABoundedBuffer()
    {
        var ct = TestContext.Current.CancellationToken;
        using var http = SseConnection.CreateClient(fixture.Storage.BaseAddress);
        using var reader = await SseConnection.OpenAsync(http, "/api/news/stream?symbol=FLOOD", ct);
        using var stalled = await SseConnection.OpenAsync(http, "/api/news/stream?symbol=FLOOD", ct);

        // Frames of 1 KB, 50 to an event, until the storage says it cut a client off: the socket buffers between the two
        // fill first (megabytes), then the default 256-entry buffer. Published one event at a time after the reading client
        // has the one before, so that it is never more than one event behind. 1,000 events (50 MB) is far past any socket buffer.
        const int PerEvent = 50;
        var events = 0;
        while (!fixture.Storage.OutputTail.Contains("Cut off a news stream client", StringComparison.Ordinal))
        {
            events.ShouldBeLessThan(1000, "the stalled client is never cut off");
            await fixture.Bus.PublishAsync(fixture.Stored("FLOOD", articles: PerEvent, titleLength: 1000), ct);
            await reader.ReadEventsAsync(PerEvent, Patience, ct);
            events++;
        }

        // Now the stalled client reads (within the fixture's minute of Stream:StallTimeout; a client that reads nothing then
        // is dropped): what was buffered on the way, then the reason, then the end of the stream.
        var received = 0;
        SseFrame? last = null;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(TimeSpan.FromMinutes(3));
        while (await stalled.ReadFrameAsync(deadline.Token) is { } frame)
        {
            if (frame.Event == "article")
            {
                received++;
            }
            if (frame.IsEvent)
            {
                last = frame;
            }
        }
        last.ShouldNotBeNull();
        last.Event.ShouldBe("error");
        last.Field("reason").ShouldBe("slow-client");
        received.ShouldBeLessThan(events * PerEvent);
        TestContext.Current.TestOutputHelper?.WriteLine($"the stalled client got {received} of {events * PerEvent} articles before it was cut off");

        // The reading client was not cut off: it still gets what comes next.
        var next = fixture.Stored("FLOOD");
        await fixture.Bus.PublishAsync(next, ct);
        (await reader.ReadEventsAsync(1, Patience, ct)).Single().Field("title").ShouldBe(next.Articles[0].Title);
    }

    [Fact(Timeout = 300_000)]
    public async Task Stream_Answers503WithRetryAfter_WhenTheInstanceHoldsItsConnectionLimit()
    {
        var ct = TestContext.Current.CancellationToken;
        var storage = await fixture.StartStorageAsync(new Dictionary<string, string?> { ["Stream:MaxConnections"] = "2" }, ct);
        using var http = SseConnection.CreateClient(storage.BaseAddress);
        using var one = await SseConnection.OpenAsync(http, "/api/news/stream", ct);
        var two = await SseConnection.OpenAsync(http, "/api/news/stream", ct);

        var (refused, answer) = await SseConnection.TryOpenAsync(http, "/api/news/stream", ct);
        using (answer)
        {
            refused.ShouldBeNull();
            answer.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
            answer.Headers.RetryAfter.ShouldNotBeNull();
        }
        // The rest of the service is not limited by it.
        (await http.GetAsync(new Uri("/api/symbols", UriKind.Relative), ct)).StatusCode.ShouldBe(HttpStatusCode.OK);

        // A client that leaves frees its place.
        two.Dispose();
        using var three = await Eventually.WaitForAsync(async () =>
            {
                var (connection, response) = await SseConnection.TryOpenAsync(http, "/api/news/stream", ct);
                if (connection is null)
                {
                    response.Dispose();
                }
                return connection;
            },
            connection => connection is not null, Patience, "a place freed by the client that left", ct);
        var stored = fixture.Stored("LIMIT");
        await fixture.Bus.PublishAsync(stored, ct);
        (await three!.ReadEventsAsync(1, Patience, ct)).Single().Field("title").ShouldBe(stored.Articles[0].Title);
    }

    [Fact(Timeout = 300_000)]
    public async Task Stream_DeliversEveryEventToClientsOfEveryInstance_WhenTwoInstancesRun()
    {
        var ct = TestContext.Current.CancellationToken;
        var second = await fixture.StartStorageAsync(new Dictionary<string, string?>(), ct);
        using var firstHttp = SseConnection.CreateClient(fixture.Storage.BaseAddress);
        using var secondHttp = SseConnection.CreateClient(second.BaseAddress);
        using var onFirst = await SseConnection.OpenAsync(firstHttp, "/api/news/stream?symbol=BOTH", ct);
        using var onSecond = await SseConnection.OpenAsync(secondHttp, "/api/news/stream?symbol=BOTH", ct);

        var events = Enumerable.Range(0, 5).Select(_ => fixture.Stored("BOTH")).ToList();
        foreach (var stored in events)
        {
            await fixture.Bus.PublishAsync(stored, ct);
        }
        var titles = events.Select(e => e.Articles[0].Title).ToList();
        (await onFirst.ReadEventsAsync(5, Patience, ct)).Select(e => e.Field("title")).ShouldBe(titles);
        (await onSecond.ReadEventsAsync(5, Patience, ct)).Select(e => e.Field("title")).ShouldBe(titles);

        // Each instance's queue is its own and temporary: the broker deletes it when its instance stops.
        var vhost = Uri.UnescapeDataString(fixture.VirtualHost.AbsolutePath.TrimStart('/'));
        var streamQueues = (await TestServers.GetQueuesAsync(vhost, ct)).Where(q => q.Name.StartsWith("news-stream", StringComparison.Ordinal)).ToList();
        streamQueues.Count.ShouldBeGreaterThanOrEqualTo(2);
        await fixture.StopStorageAsync(second);
        await Eventually.WaitForAsync(() => TestServers.GetQueuesAsync(vhost, ct),
            queues => queues.Count(q => q.Name.StartsWith("news-stream", StringComparison.Ordinal)) == streamQueues.Count - 1,
            Patience, "the stopped instance's stream queue to be gone", ct);
    }
}
