using System.Net;
using System.Text.Json.Nodes;
using CustomerRecords.Api.History;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Tests.History;

/// <summary>
/// The HTTP contract of <c>/customers/{id}/history</c>, <c>/customers/{id}/export</c> and <c>/changes</c>, and the
/// retention purge. Each engine runs every test through a subclass, on its own freshly migrated database; every
/// response is checked against the served OpenAPI document.
/// </summary>
public abstract class HistoryApiContract : ApiContractSuite
{
    private const string CreatedChanges = """{"name":{"before":null,"after":"Ann Example"},"email":{"before":null,"after":"ann@example.com"},"phone":{"before":null,"after":"+1 555 0100"}}""";
    private const string UpdatedChanges = """{"email":{"before":"ann@example.com","after":"ann.b@example.com"}}""";

    // One cursor key for every instance of the test, as behind a load balancer.
    protected override void ConfigureSettings(Dictionary<string, string?> settings) =>
        settings["Customers:CursorKey"] = "history-contract-cursor-key-0123456789abcdef";

    /// <summary>A customer with no row and three events: created, updated, deleted (as a purged customer would have).</summary>
    private async Task<(int Id, long[] Seqs)> ThreeEventsAsync(DateTime? erasedAt = null)
    {
        var id = EventRows.UnusedCustomerId();
        var trace = "0af7651916cd43dd8448eb211c80319c";
        var created = await EventRows.InsertEventAsync(Factory, id, "created", 1, "name,email,phone", erasedAt is null ? CreatedChanges : null, erasedAt: erasedAt, traceId: trace);
        var updated = await EventRows.InsertEventAsync(Factory, id, "updated", 2, "email", erasedAt is null ? UpdatedChanges : null, erasedAt: erasedAt, actor: "user:auth0|42");
        var deleted = await EventRows.InsertEventAsync(Factory, id, "deleted", 3, erasedAt: erasedAt, actor: "anonymous");
        return (id, [created, updated, deleted]);
    }

    [Fact]
    public async Task HistoryIsNewestFirstWithEachEventsChanges()
    {
        var (id, seqs) = await ThreeEventsAsync();

        var page = await GetObjectAsync($"/customers/{id}/history");

        var items = page["items"]!.AsArray();
        Assert.Equal([seqs[2], seqs[1], seqs[0]], items.Select(i => (long)i!["seq"]!));
        Assert.Equal(["deleted", "updated", "created"], items.Select(i => (string)i!["kind"]!));
        Assert.All(items, i => Assert.Equal(id, (int)i!["customer_id"]!));
        Assert.Equal([3, 2, 1], items.Select(i => (int)i!["version"]!));
        Assert.Equal(["anonymous", "user:auth0|42", "key:test"], items.Select(i => (string)i!["actor"]!));
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", (string?)items[2]!["trace_id"]);
        Assert.Null(items[0]!["trace_id"]);
        Assert.All(items, i => Assert.False((bool)i!["erased"]!));
        Assert.All(items, i => Assert.EndsWith("Z", (string)i!["at"]!, StringComparison.Ordinal));

        Assert.Empty(items[0]!["changes"]!.AsObject());
        Assert.Equal("""{"email":{"before":"ann@example.com","after":"ann.b@example.com"}}""", items[1]!["changes"]!.ToJsonString());
        var created = items[2]!["changes"]!.AsObject();
        Assert.Equal(["name", "email", "phone"], created.Select(p => p.Key));
        Assert.Null(created["name"]!["before"]);
        Assert.Equal("+1 555 0100", (string?)created["phone"]!["after"]);
        Assert.Null(page["next"]);
    }

    [Fact]
    public async Task AnErasedCustomersEventsKeepTheirFieldNamesButNoValues()
    {
        var (id, _) = await ThreeEventsAsync(erasedAt: EventRows.Now());
        await EventRows.InsertEventAsync(Factory, id, "erased", 4, erasedAt: EventRows.Now());

        var items = (await GetObjectAsync($"/customers/{id}/history"))["items"]!.AsArray();

        Assert.Equal(["erased", "deleted", "updated", "created"], items.Select(i => (string)i!["kind"]!));
        Assert.All(items, i => Assert.True((bool)i!["erased"]!));
        Assert.Equal("""{"name":{"before":"[erased]","after":"[erased]"},"email":{"before":"[erased]","after":"[erased]"},"phone":{"before":"[erased]","after":"[erased]"}}""", items[3]!["changes"]!.ToJsonString());
        Assert.Equal("""{"email":{"before":"[erased]","after":"[erased]"}}""", items[2]!["changes"]!.ToJsonString());
        Assert.Empty(items[0]!["changes"]!.AsObject());
    }

    [Fact]
    public async Task HistoryPagesFollowNextToTheEndWithoutGapOrRepeat()
    {
        var id = EventRows.UnusedCustomerId();
        var inserted = new List<long>();
        for (var i = 1; i <= 45; i++)
        {
            inserted.Add(await EventRows.InsertEventAsync(Factory, id, i == 1 ? "created" : "updated", i));
        }

        // Another customer's events in between change nothing.
        await EventRows.InsertEventAsync(Factory, EventRows.UnusedCustomerId(), "created", 1);

        var seen = new List<long>();
        var sizes = new List<int>();
        string? next = null;
        do
        {
            var page = await GetObjectAsync($"/customers/{id}/history?limit=20" + (next is null ? "" : "&after=" + next));
            var items = page["items"]!.AsArray();
            sizes.Add(items.Count);
            seen.AddRange(items.Select(i => (long)i!["seq"]!));
            next = (string?)page["next"];
        }
        while (next is not null);

        Assert.Equal([20, 20, 5], sizes);
        Assert.Equal(inserted.OrderDescending(), seen);

        var byDefault = (await GetObjectAsync($"/customers/{id}/history"))["items"]!.AsArray();
        Assert.Equal(HistoryApi.HistoryDefaultLimit, byDefault.Count);
    }

    [Fact]
    public async Task ACursorOfAnotherCustomerOrAlteredOrOfTheFeedIsRefused()
    {
        var first = EventRows.UnusedCustomerId();
        var second = EventRows.UnusedCustomerId();
        for (var i = 1; i <= 3; i++)
        {
            await EventRows.InsertEventAsync(Factory, first, "updated", i);
            await EventRows.InsertEventAsync(Factory, second, "updated", i);
        }

        var cursor = (string)(await GetObjectAsync($"/customers/{first}/history?limit=1"))["next"]!;
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync($"/customers/{first}/history?limit=1&after={cursor}")).StatusCode);

        await AssertValidationAsync(await Client.GetAsync($"/customers/{second}/history?after={cursor}"), "after");
        var altered = (cursor[5] == 'A' ? "B" : "A") is var c ? cursor[..5] + c + cursor[6..] : cursor;
        await AssertValidationAsync(await Client.GetAsync($"/customers/{first}/history?after={altered}"), "after");
        await AssertValidationAsync(await Client.GetAsync($"/customers/{first}/history?after=not-a-cursor"), "after");

        var feedCursor = (string)(await GetObjectAsync("/changes?limit=1"))["next"]!;
        await AssertValidationAsync(await Client.GetAsync($"/customers/{first}/history?after={feedCursor}"), "after");
        await AssertValidationAsync(await Client.GetAsync($"/changes?after={cursor}"), "after");

        // A customer-list cursor is no history cursor, and a history cursor no list cursor.
        var listCursor = (string)(await GetObjectAsync("/customers?limit=1"))["next"]!;
        await AssertValidationAsync(await Client.GetAsync($"/customers/{first}/history?after={listCursor}"), "after");
        await AssertValidationAsync(await Client.GetAsync($"/customers?after={cursor}"), "after");
    }

    [Theory]
    [InlineData("0")]
    [InlineData("101")]
    [InlineData("-1")]
    [InlineData("ten")]
    [InlineData("")]
    public async Task HistoryLimitOutsideOneToAHundredIsRefused(string limit)
    {
        var id = EventRows.UnusedCustomerId();
        await EventRows.InsertEventAsync(Factory, id, "created", 1);
        await AssertValidationAsync(await Client.GetAsync($"/customers/{id}/history?limit={limit}"), "limit");
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1001")]
    [InlineData("x")]
    public async Task FeedLimitOutsideOneToAThousandIsRefused(string limit)
    {
        await AssertValidationAsync(await Client.GetAsync($"/changes?limit={limit}"), "limit");
    }

    [Fact]
    public async Task AnUnknownCustomerIsNotFoundButOneWithARowOrEventsIsNot()
    {
        var unknown = EventRows.UnusedCustomerId();
        foreach (var path in new[] { $"/customers/{unknown}/history", $"/customers/{unknown}/export" })
        {
            var response = await Client.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("urn:customer-records:problem:not-found", (string?)(await response.ReadObjectAsync())["type"]);
        }

        // A row without events (written before history existed) has an empty history.
        var quiet = await EventRows.InsertCustomerAsync(Factory, "Quiet Row", Json.UniqueEmail("quiet"));
        var history = await GetObjectAsync($"/customers/{quiet}/history");
        if (history["items"]!.AsArray().Count == 0)
        {
            Assert.Null(history["next"]);
        }

        Assert.Equal("live", (string?)(await GetObjectAsync($"/customers/{quiet}/export"))["state"]);
    }

    [Fact]
    public async Task ADeletedCustomersHistoryAndExportStayReadable()
    {
        var email = Json.UniqueEmail("deleted");
        var deletedAt = EventRows.Now();
        var id = await EventRows.InsertCustomerAsync(Factory, "Gone Butkept", email, deletedAt);
        await EventRows.InsertEventAsync(Factory, id, "created", 1, "name,email", $$$"""{"name":{"before":null,"after":"Gone Butkept"},"email":{"before":null,"after":"{{{email}}}"}}""");
        await EventRows.InsertEventAsync(Factory, id, "deleted", 2);

        var history = (await GetObjectAsync($"/customers/{id}/history"))["items"]!.AsArray();
        Assert.Equal("deleted", (string?)history[0]!["kind"]);

        var export = await GetObjectAsync($"/customers/{id}/export");
        Assert.Equal("deleted", (string?)export["state"]);
        Assert.Equal(email, (string?)export["customer"]!["email"]);
        Assert.Equal(deletedAt, DateTime.Parse((string)export["customer"]!["deleted_at"]!, null, System.Globalization.DateTimeStyles.RoundtripKind));
        Assert.Equal(["created", "deleted"], export["history"]!.AsArray().Select(e => (string)e!["kind"]!));
    }

    [Fact]
    public async Task ExportOfALiveCustomerHasTheRowWithDeletedAtNull()
    {
        var email = Json.UniqueEmail("live");
        var id = await EventRows.InsertCustomerAsync(Factory, "Live One", email);
        var before = DateTime.UtcNow.AddSeconds(-1);

        var export = await GetObjectAsync($"/customers/{id}/export");

        Assert.Equal("live", (string?)export["state"]);
        var customer = export["customer"]!.AsObject();
        Assert.Equal(id, (int)customer["id"]!);
        Assert.Equal(email, (string?)customer["email"]);
        Assert.True(customer.ContainsKey("deleted_at"));
        Assert.Null(customer["deleted_at"]);
        Assert.True(DateTime.Parse((string)export["exported_at"]!, null, System.Globalization.DateTimeStyles.RoundtripKind) >= before);
    }

    [Fact]
    public async Task ExportOfAPurgedOrErasedCustomerHasNoRowAndItsWholeHistoryOldestFirst()
    {
        var (purged, seqs) = await ThreeEventsAsync();
        var export = await GetObjectAsync($"/customers/{purged}/export");
        Assert.Equal("purged", (string?)export["state"]);
        Assert.Null(export["customer"]);
        Assert.Equal(seqs, export["history"]!.AsArray().Select(e => (long)e!["seq"]!));
        Assert.Equal("ann.b@example.com", (string?)export["history"]![1]!["changes"]!["email"]!["after"]);

        var (erased, _) = await ThreeEventsAsync(erasedAt: EventRows.Now());
        var erasedExport = await GetObjectAsync($"/customers/{erased}/export");
        Assert.Equal("erased", (string?)erasedExport["state"]);
        Assert.Null(erasedExport["customer"]);
        Assert.DoesNotContain("ann", erasedExport.ToJsonString(), StringComparison.Ordinal);
        Assert.All(erasedExport["history"]!.AsArray(), e => Assert.True((bool)e!["erased"]!));
    }

    [Fact]
    public async Task ExportOfALongHistoryHasEveryEventInOrder()
    {
        const int Events = 2345; // more than two of the export's internal pages
        var id = EventRows.UnusedCustomerId();
        await using (var connection = await EventRows.OpenAsync(Factory))
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            for (var i = 1; i <= Events; i++)
            {
                await EventRows.InsertEventAsync(connection, transaction, id, i == 1 ? "created" : "updated", i);
            }

            await transaction.CommitAsync();
        }

        var export = await GetObjectAsync($"/customers/{id}/export");

        var versions = export["history"]!.AsArray().Select(e => (int)e!["version"]!).ToList();
        Assert.Equal(Enumerable.Range(1, Events), versions);
        var seqs = export["history"]!.AsArray().Select(e => (long)e!["seq"]!).ToList();
        Assert.Equal(seqs.Order(), seqs);
    }

    [Fact]
    public async Task TheFeedGivesEveryEventOnceInPositionOrderAndAlwaysACursor()
    {
        var start = await GetObjectAsync("/changes");
        var cursor = (string)start["next"]!;
        var known = start["items"]!.AsArray().Select(i => (long)i!["seq"]!).ToHashSet();

        var id = EventRows.UnusedCustomerId();
        var inserted = new List<long>();
        for (var i = 1; i <= 25; i++)
        {
            inserted.Add(await EventRows.InsertEventAsync(Factory, id, "updated", i));
        }

        var seen = new List<JsonNode>();
        var sizes = new List<int>();
        while (true)
        {
            var page = await GetObjectAsync($"/changes?limit=10&after={cursor}");
            var items = page["items"]!.AsArray();
            sizes.Add(items.Count);
            seen.AddRange(items.Select(i => i!.DeepClone()));
            Assert.NotNull(page["next"]);
            cursor = (string)page["next"]!;
            if (items.Count == 0)
            {
                break;
            }
        }

        Assert.Equal([10, 10, 5, 0], sizes);
        Assert.Equal(inserted, seen.Where(e => !known.Contains((long)e["seq"]!)).Select(e => (long)e["seq"]!));
        var positions = seen.Select(e => (long)e["position"]!).ToList();
        Assert.True(positions.Zip(positions.Skip(1)).All(p => p.Second > p.First), "positions strictly increase");

        // The cursor of an empty page is where a follower polls from: the next event comes after it, once.
        var later = await EventRows.InsertEventAsync(Factory, id, "deleted", 26);
        var polled = (await GetObjectAsync($"/changes?after={cursor}"))["items"]!.AsArray();
        Assert.Equal([later], polled.Select(i => (long)i!["seq"]!));
    }

    [Fact]
    public async Task TheLifecycleThroughTheApiIsInTheHistoryTheExportAndTheFeed()
    {
        var feedStart = (string)(await GetObjectAsync("/changes?limit=1000"))["next"]!;
        while ((await GetObjectAsync($"/changes?limit=1000&after={feedStart}")) is var page && page["items"]!.AsArray().Count > 0)
        {
            feedStart = (string)page["next"]!;
        }

        var email = Json.UniqueEmail("life");
        var created = await Client.PostAsync("/customers", Json.Body(new { name = "Life Cycle", email, phone = "+1 555 0101" }));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (int)(await created.ReadObjectAsync())["id"]!;
        var newEmail = Json.UniqueEmail("life2");
        Assert.Equal(HttpStatusCode.OK, (await Client.PatchAsync($"/customers/{id}", Json.Body(new { email = newEmail }, "application/merge-patch+json"))).StatusCode);

        var history = (await GetObjectAsync($"/customers/{id}/history"))["items"]!.AsArray();
        Assert.Equal(["updated", "created"], history.Select(e => (string)e!["kind"]!));
        Assert.Equal([2, 1], history.Select(e => (int)e!["version"]!));
        Assert.Equal(email, (string?)history[0]!["changes"]!["email"]!["before"]);
        Assert.Equal(newEmail, (string?)history[0]!["changes"]!["email"]!["after"]);
        Assert.Equal(["email"], history[0]!["changes"]!.AsObject().Select(p => p.Key));
        Assert.Equal("Life Cycle", (string?)history[1]!["changes"]!["name"]!["after"]);
        Assert.Equal("anonymous", (string?)history[1]!["actor"]);
        Assert.Equal("live", (string?)(await GetObjectAsync($"/customers/{id}/export"))["state"]);

        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync($"/customers/{id}")).StatusCode);
        var deleted = await GetObjectAsync($"/customers/{id}/export");
        Assert.Equal("deleted", (string?)deleted["state"]);
        Assert.NotNull(deleted["customer"]!["deleted_at"]);
        Assert.Equal(newEmail, (string?)deleted["customer"]!["email"]);

        Assert.Equal(HttpStatusCode.OK, (await Client.PostAsync($"/customers/{id}/restore", null)).StatusCode);
        Assert.Equal("live", (string?)(await GetObjectAsync($"/customers/{id}/export"))["state"]);

        Assert.Equal(HttpStatusCode.NoContent, (await Client.PostAsync($"/customers/{id}/erase", null)).StatusCode);
        var erased = await GetObjectAsync($"/customers/{id}/export");
        Assert.Equal("erased", (string?)erased["state"]);
        Assert.Null(erased["customer"]);
        var kinds = erased["history"]!.AsArray().Select(e => (string)e!["kind"]!).ToList();
        Assert.Equal(["created", "updated", "deleted", "restored", "erased"], kinds);
        // Every event before the erase lost its values; the erase itself never had any.
        Assert.All(erased["history"]!.AsArray().SkipLast(1), e => Assert.True((bool)e!["erased"]!));
        Assert.Empty(erased["history"]!.AsArray()[^1]!["changes"]!.AsObject());
        Assert.Equal("[erased]", (string?)erased["history"]![1]!["changes"]!["email"]!["after"]);
        var text = erased.ToJsonString();
        Assert.DoesNotContain(email, text, StringComparison.Ordinal);
        Assert.DoesNotContain(newEmail, text, StringComparison.Ordinal);
        Assert.DoesNotContain("Life Cycle", text, StringComparison.Ordinal);

        // The feed has the same five events of this customer, in order, after the cursor taken before the create.
        var feed = new List<JsonNode>();
        var cursor = feedStart;
        while (true)
        {
            var page = await GetObjectAsync($"/changes?limit=1000&after={cursor}");
            var items = page["items"]!.AsArray();
            feed.AddRange(items.Select(i => i!.DeepClone()));
            cursor = (string)page["next"]!;
            if (items.Count == 0)
            {
                break;
            }
        }

        Assert.Equal(kinds, feed.Where(e => (int)e["customer_id"]! == id).Select(e => (string)e["kind"]!));
    }

    [Fact]
    public async Task TheBackgroundSequencerNumbersEventsWithoutAReader()
    {
        var seq = await EventRows.InsertEventAsync(Factory, EventRows.UnusedCustomerId(), "created", 1);
        _ = await GetObjectAsync("/changes?limit=1"); // the host is up; from here only the background service numbers events
        var late = await EventRows.InsertEventAsync(Factory, EventRows.UnusedCustomerId(), "created", 1);
        // Inserted behind the service's back, so counted as this instance's own write would be: the sequencer skips
        // ticks after which this instance committed nothing, and its first tick may already have run by now.
        Factory.Services.GetRequiredService<CustomerRecords.Api.Data.WriteActivity>().Record();

        await Caching.Eventually.WithinAsync(TimeSpan.FromSeconds(15), "the background sequencer numbers the event", async () =>
            (await EventRows.ScalarsAsync(Factory, $"SELECT COUNT(*) FROM customer_events WHERE seq IN ({seq}, {late}) AND position IS NOT NULL"))[0] == 2,
            TimeSpan.FromMilliseconds(100));
        var history = (await GetObjectAsync($"/customers/{(await EventRows.ScalarsAsync(Factory, $"SELECT customer_id FROM customer_events WHERE seq = {late}"))[0]}/history"))["items"]!.AsArray();
        Assert.NotNull(history[0]!["position"]);
    }

    [Fact]
    public async Task RetentionPurgeTrimsOldEventsKeepsRecentOnesAndTwoPurgersAtOnceAreFine()
    {
        var old = EventRows.Now().AddDays(-40);
        var id = EventRows.UnusedCustomerId();
        var oldSeqs = new List<long>();
        await using (var connection = await EventRows.OpenAsync(Factory))
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            for (var i = 1; i <= 2500; i++)
            {
                oldSeqs.Add(await EventRows.InsertEventAsync(connection, transaction, id, "updated", i, occurredAt: old.AddSeconds(i)));
            }

            await transaction.CommitAsync();
        }

        var recent = await EventRows.InsertEventAsync(Factory, id, "updated", 2501, occurredAt: EventRows.Now().AddDays(-1));
        // Sequence them: the purge takes only events the feed has numbered. Inserted behind the service's back, they
        // count as no activity of this instance, so its background sequencer may have had its tick already; every feed
        // read numbers a batch of what is pending first, so read the feed as a follower would until all are numbered.
        await Caching.Eventually.WithinAsync(TimeSpan.FromSeconds(60), "every event is numbered", async () =>
        {
            _ = await GetObjectAsync("/changes?limit=1");
            return (await EventRows.ScalarsAsync(Factory, "SELECT COUNT(*) FROM customer_events WHERE position IS NULL"))[0] == 0;
        }, TimeSpan.FromMilliseconds(100));

        await using var second = SecondInstance();
        var clock = TimeProvider.System;
        var stores = new[] { Factory.Services.GetRequiredService<HistoryStore>(), second.Services.GetRequiredService<HistoryStore>() };
        var runs = await Task.WhenAll(stores.Select(s => HistoryRetentionService.PurgeAsync(s, TimeSpan.FromDays(30), clock, CancellationToken.None)));

        Assert.True(runs.Sum() >= oldSeqs.Count, $"the purgers found {string.Join(" + ", runs)} expired events");
        var left = await EventRows.ScalarsAsync(Factory, $"SELECT seq FROM customer_events WHERE customer_id = {id}");
        Assert.Equal([recent], left);

        // Nothing left to do is no error either.
        Assert.Equal(0, await HistoryRetentionService.PurgeAsync(stores[1], TimeSpan.FromDays(30), clock, CancellationToken.None));
    }

    [Fact]
    public async Task WithRetentionSetTheBackgroundPurgeTrimsOnItsOwn()
    {
        var id = EventRows.UnusedCustomerId();
        var old = await EventRows.InsertEventAsync(Factory, id, "created", 1, occurredAt: EventRows.Now().AddDays(-3));
        var kept = await EventRows.InsertEventAsync(Factory, id, "updated", 2);
        _ = await GetObjectAsync("/changes?limit=1");

        await using var purging = SecondInstance(("History:Retention", "2.00:00:00"), ("History:PurgeInterval", "00:00:00.200"));
        Assert.Equal(TimeSpan.FromDays(2), purging.Services.GetRequiredService<IOptions<HistoryOptions>>().Value.Retention);
        await Caching.Eventually.WithinAsync(TimeSpan.FromSeconds(15), "the old event is purged", async () =>
            !(await EventRows.ScalarsAsync(Factory, $"SELECT seq FROM customer_events WHERE customer_id = {id}")).Contains(old), TimeSpan.FromMilliseconds(100));
        Assert.Equal([kept], await EventRows.ScalarsAsync(Factory, $"SELECT seq FROM customer_events WHERE customer_id = {id}"));
    }
}
