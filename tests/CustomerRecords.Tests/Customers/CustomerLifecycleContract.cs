using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using CustomerRecords.Api.Customers;
using CustomerRecords.Tests.Infrastructure;
using CustomerRecords.Tests.Redaction;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CustomerRecords.Tests.Customers;

/// <summary>
/// The customer lifecycle's write side on each engine: one history event per change, in the change's own
/// transaction; soft delete, restore and the restore window; email uniqueness among live rows; the purge;
/// and erasure, after which no table and no log holds an erased value. Responses are checked against the
/// OpenAPI document like the rest of the contract.
/// </summary>
public abstract class CustomerLifecycleContract : ApiContractSuite
{
    private const string Name = "Lifecycle Lorelei";
    private const string Phone = "+44 20 7946 0958";

    private readonly LogCapture _logs = new();

    protected override void ConfigureSettings(Dictionary<string, string?> settings) => settings["RateLimit:Enabled"] = "false";

    /// <summary>Every log line of the app, at every level, goes to <see cref="_logs"/>: the erasure test reads them all.</summary>
    protected override void ConfigureHost(IWebHostBuilder builder) => builder.ConfigureLogging(l =>
    {
        l.SetMinimumLevel(LogLevel.Trace);
        l.AddProvider(_logs);
    });

    private async Task<List<Dictionary<string, object?>>> RowsAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = Connect();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        var rows = new List<Dictionary<string, object?>>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (var i = 0; i < reader.FieldCount; i++)
            {
                row[reader.GetName(i)] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            rows.Add(row);
        }

        return rows;
    }

    private Task<List<Dictionary<string, object?>>> EventsAsync(int id) =>
        RowsAsync("SELECT kind, actor, trace_id, version, fields, changes, erased_at FROM customer_events WHERE customer_id = @id ORDER BY seq", ("@id", id));

    private async Task<long> EventCountAsync() => Convert.ToInt64((await RowsAsync("SELECT COUNT(*) AS n FROM customer_events"))[0]["n"], CultureInfo.InvariantCulture);

    private async Task<int> CreateAsync(string email, string? phone = Phone, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/customers") { Content = Json.Body(new { name = Name, email, phone }) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        using var response = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (int)(await response.ReadObjectAsync())["id"]!;
    }

    private static string PathOf(int id, string suffix = "") => string.Create(CultureInfo.InvariantCulture, $"/customers/{id}{suffix}");

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string type)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("urn:customer-records:problem:" + type, (string?)(await response.ReadObjectAsync())["type"]);
    }

    private Task<HttpResponseMessage> PatchAsync(int id, object body, string? ifMatch = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Patch, PathOf(id)) { Content = Json.Body(body, "application/merge-patch+json") };
        if (ifMatch is not null)
        {
            request.Headers.IfMatch.Add(new EntityTagHeaderValue(ifMatch));
        }

        return Client.SendAsync(request);
    }

    private Task<HttpResponseMessage> PostAsync(string path) => Client.PostAsync(path, content: null);

    /// <summary>Sets the deletion time of a row back by SQL: how a test reaches past the restore window without waiting 30 days.</summary>
    private async Task AgeDeletionAsync(int id, TimeSpan age)
    {
        await using var connection = Connect();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE customers SET deleted_at = @at WHERE id = @id";
        var at = command.CreateParameter();
        at.ParameterName = "@at";
        at.Value = DateTime.UtcNow - age;
        command.Parameters.Add(at);
        var idParameter = command.CreateParameter();
        idParameter.ParameterName = "@id";
        idParameter.Value = id;
        command.Parameters.Add(idParameter);
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    [Fact]
    public async Task EveryChangeKindWritesExactlyOneEventWithItsActorFieldsAndVersion()
    {
        var email = Json.UniqueEmail("history");
        var id = await CreateAsync(email);
        using (var patched = await PatchAsync(id, new { name = "Renamed Lorelei", phone = (string?)null }))
        {
            Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        }

        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync(PathOf(id))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(PathOf(id, "/restore"))).StatusCode);

        var events = await EventsAsync(id);
        Assert.Equal(["created", "updated", "deleted", "restored"], events.Select(e => (string)e["kind"]!));
        Assert.Equal([1, 2, 3, 4], events.Select(e => Convert.ToInt32(e["version"], CultureInfo.InvariantCulture)));
        Assert.All(events, e => Assert.Equal("anonymous", e["actor"])); // the open loopback mode of the tests
        Assert.All(events, e => Assert.Matches("^[0-9a-f]{32}$", (string)e["trace_id"]!));
        Assert.Equal(4, events.Select(e => e["trace_id"]).Distinct().Count()); // each request its own trace

        Assert.Equal("name,email,phone", events[0]["fields"]);
        var created = JsonNode.Parse((string)events[0]["changes"]!)!;
        Assert.Null(created["name"]!["before"]);
        Assert.Equal(Name, (string?)created["name"]!["after"]);
        Assert.Equal(email, (string?)created["email"]!["after"]);
        Assert.Equal(Phone, (string?)created["phone"]!["after"]);

        Assert.Equal("name,phone", events[1]["fields"]);
        var updated = JsonNode.Parse((string)events[1]["changes"]!)!;
        Assert.Equal(Name, (string?)updated["name"]!["before"]);
        Assert.Equal("Renamed Lorelei", (string?)updated["name"]!["after"]);
        Assert.Equal(Phone, (string?)updated["phone"]!["before"]);
        Assert.Null(updated["phone"]!["after"]);
        Assert.Null(updated["email"]); // unchanged fields are not listed

        Assert.All(events.Skip(2), e => Assert.Equal(string.Empty, e["fields"]));
        Assert.All(events.Skip(2), e => Assert.Null(e["changes"]));
    }

    [Fact]
    public async Task TheOriginalRoutesWriteTheirEventsToo()
    {
        using var created = await Client.PostAsync("/create", Json.Body(new { name = Name, email = Json.UniqueEmail("original"), phone = Phone }));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (int)(await created.ReadObjectAsync())["id"]!;
        var newEmail = Json.UniqueEmail("original-new");
        Assert.Equal(HttpStatusCode.OK, (await Client.PutAsync(string.Create(CultureInfo.InvariantCulture, $"/update/{id}"), Json.Body(new { email = newEmail }))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Client.DeleteAsync(string.Create(CultureInfo.InvariantCulture, $"/delete/{id}"))).StatusCode);

        var events = await EventsAsync(id);
        Assert.Equal(["created", "updated", "deleted"], events.Select(e => (string)e["kind"]!));
        Assert.Equal("email", events[1]["fields"]);
        Assert.Equal(newEmail, (string?)JsonNode.Parse((string)events[1]["changes"]!)!["email"]!["after"]);

        // The original app's delete is the soft delete: its read answers 404, and the row can come back.
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync(string.Create(CultureInfo.InvariantCulture, $"/read/{id}"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(PathOf(id, "/restore"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync(string.Create(CultureInfo.InvariantCulture, $"/read/{id}"))).StatusCode);
    }

    [Fact]
    public async Task AWriteThatFailsWritesNoEvent()
    {
        var email = Json.UniqueEmail("failing");
        var id = await CreateAsync(email);
        var other = await CreateAsync(Json.UniqueEmail("failing-other"));
        var before = await EventCountAsync();

        await AssertProblemAsync(await Client.PostAsync("/customers", Json.Body(new { name = Name, email = email.ToUpperInvariant() })), HttpStatusCode.Conflict, "duplicate-email");
        await AssertProblemAsync(await PatchAsync(other, new { email }), HttpStatusCode.Conflict, "duplicate-email");
        await AssertProblemAsync(await PatchAsync(id, new { name = "Stale" }, "\"7\""), HttpStatusCode.PreconditionFailed, "precondition-failed");
        await AssertProblemAsync(await PatchAsync(id, new { name = string.Empty }), HttpStatusCode.BadRequest, "validation");
        await AssertProblemAsync(await Client.DeleteAsync(PathOf(999_999)), HttpStatusCode.NotFound, "not-found");
        await AssertProblemAsync(await PostAsync(PathOf(id, "/restore")), HttpStatusCode.Conflict, "not-deleted");
        await AssertProblemAsync(await PostAsync(PathOf(999_999, "/restore")), HttpStatusCode.NotFound, "not-found");
        await AssertProblemAsync(await PostAsync(PathOf(999_999, "/erase")), HttpStatusCode.NotFound, "not-found");

        Assert.Equal(before, await EventCountAsync());
        var row = Assert.Single(await RowsAsync("SELECT name, version FROM customers WHERE id = @id", ("@id", id)));
        Assert.Equal(Name, row["name"]);
        Assert.Equal(1, Convert.ToInt32(row["version"], CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task ADeletedCustomerIsHiddenFromEveryReadPathUntilRestored()
    {
        var email = Json.UniqueEmail("hidden");
        var id = await CreateAsync(email);
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync(PathOf(id))).StatusCode); // cached before the delete
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync(PathOf(id))).StatusCode);

        await AssertProblemAsync(await Client.GetAsync(PathOf(id)), HttpStatusCode.NotFound, "not-found");
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync(string.Create(CultureInfo.InvariantCulture, $"/read/{id}"))).StatusCode);
        await AssertProblemAsync(await PatchAsync(id, new { name = "Ghost" }), HttpStatusCode.NotFound, "not-found");
        await AssertProblemAsync(await Client.PutAsync(PathOf(id), Json.Body(new { name = "Ghost", email = Json.UniqueEmail("ghost") })), HttpStatusCode.NotFound, "not-found");
        await AssertProblemAsync(await Client.DeleteAsync(PathOf(id)), HttpStatusCode.NotFound, "not-found");
        Assert.DoesNotContain(id, await ListedIdsAsync($"/customers?email={Uri.EscapeDataString(email)}"));
        Assert.DoesNotContain(id, await ListedIdsAsync($"/customers?q={Uri.EscapeDataString(email[..8])}&limit=100"));
        Assert.DoesNotContain(id, await ListedIdsAsync("/customers?sort=-id&limit=100"));

        // The row is still there, marked: a restore brings it back with its id and values.
        var row = Assert.Single(await RowsAsync("SELECT deleted_at, version FROM customers WHERE id = @id", ("@id", id)));
        Assert.NotNull(row["deleted_at"]);
        using var restored = await PostAsync(PathOf(id, "/restore"));
        Assert.Equal(HttpStatusCode.OK, restored.StatusCode);
        var body = await restored.ReadObjectAsync();
        Assert.Equal(id, (int)body["id"]!);
        Assert.Equal(email, (string?)body["email"]);
        Assert.Equal(3, (int)body["version"]!);
        Assert.Equal("\"3\"", restored.Headers.ETag?.Tag);
        Assert.Null(body["deleted_at"]);

        using var read = await Client.GetAsync(PathOf(id));
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(3, (int)(await read.ReadObjectAsync())["version"]!);
        Assert.Contains(id, await ListedIdsAsync($"/customers?email={Uri.EscapeDataString(email)}"));
    }

    private async Task<List<int>> ListedIdsAsync(string path)
    {
        using var response = await Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await response.ReadObjectAsync())["items"]!.AsArray().Select(i => (int)i!["id"]!)];
    }

    [Fact]
    public async Task EmailsAreUniqueAmongLiveCustomersOnlyAndARestoreThatWouldCollideIs409()
    {
        var email = Json.UniqueEmail("reuse");
        var first = await CreateAsync(email);
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync(PathOf(first))).StatusCode);

        var second = await CreateAsync(email.ToUpperInvariant()); // a deleted customer's email is free, ignoring case
        await AssertProblemAsync(await PostAsync(PathOf(first, "/restore")), HttpStatusCode.Conflict, "duplicate-email");
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync(PathOf(first))).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync(PathOf(second))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(PathOf(first, "/restore"))).StatusCode);
        await AssertProblemAsync(await PostAsync(PathOf(second, "/restore")), HttpStatusCode.Conflict, "duplicate-email");
    }

    [Fact]
    public async Task PastTheRestoreWindowARestoreIsRefusedAndThePurgeRemovesTheRowOnce()
    {
        var late = await CreateAsync(Json.UniqueEmail("late"));
        var recent = await CreateAsync(Json.UniqueEmail("recent"));
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync(PathOf(late))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync(PathOf(recent))).StatusCode);
        await AgeDeletionAsync(late, TimeSpan.FromDays(31)); // the default window is 30 days
        await AgeDeletionAsync(recent, TimeSpan.FromDays(29));

        await AssertProblemAsync(await PostAsync(PathOf(late, "/restore")), HttpStatusCode.Conflict, "restore-window-passed");

        // Two instances' purges at once: each due row goes once, with one purged event.
        var purge = Factory.Services.GetRequiredService<CustomerPurgeService>();
        var purged = await Task.WhenAll(purge.PurgeDueAsync(CancellationToken.None), purge.PurgeDueAsync(CancellationToken.None));
        Assert.Equal(1, purged.Sum());

        Assert.Empty(await RowsAsync("SELECT id FROM customers WHERE id = @id", ("@id", late)));
        Assert.Equal(["created", "deleted", "purged"], (await EventsAsync(late)).Select(e => (string)e["kind"]!));
        Assert.Equal("system", (await EventsAsync(late))[^1]["actor"]);
        await AssertProblemAsync(await PostAsync(PathOf(late, "/restore")), HttpStatusCode.NotFound, "not-found");

        Assert.Equal(HttpStatusCode.OK, (await PostAsync(PathOf(recent, "/restore"))).StatusCode);
    }

    [Fact]
    public async Task AfterAnErasureNoTableAndNoLogHoldsAnErasedValue()
    {
        var email = Json.UniqueEmail("erase-me");
        const string erasedName = "Erasable Eustace";
        const string erasedPhone = "+1 415 555 0199";
        const string changedName = "Erasable Eugenie";
        const string key = "erase-idempotency-key-1";
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/customers") { Content = Json.Body(new { name = erasedName, email, phone = erasedPhone }) })
        {
            request.Headers.Add("Idempotency-Key", key);
            Assert.Equal(HttpStatusCode.Created, (await Client.SendAsync(request)).StatusCode);
        }

        var id = (int)(await (await Client.GetAsync($"/customers?email={Uri.EscapeDataString(email)}")).ReadObjectAsync())["items"]![0]!["id"]!;
        Assert.Equal(HttpStatusCode.OK, (await PatchAsync(id, new { name = changedName })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync(PathOf(id))).StatusCode); // cached
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync(PathOf(id))).StatusCode); // erasure reaches deleted rows too
        var untouched = await CreateAsync(Json.UniqueEmail("bystander"));

        using (var erased = await PostAsync(PathOf(id, "/erase")))
        {
            Assert.Equal(HttpStatusCode.NoContent, erased.StatusCode);
        }

        string[] values = [email, erasedName, changedName, erasedPhone, email.Split('@')[0]];
        foreach (var table in new[] { "customers", "customer_events", "idempotency_keys" })
        {
            var dump = Dump(await RowsAsync($"SELECT * FROM {table}"));
            foreach (var value in values)
            {
                Assert.False(dump.Contains(value, StringComparison.OrdinalIgnoreCase), $"{table} still holds an erased value");
            }
        }

        Assert.DoesNotContain(values, v => _logs.AllText.Contains(v, StringComparison.OrdinalIgnoreCase));

        // The history keeps its skeleton: kinds, actors and which fields changed, without the values.
        var events = await EventsAsync(id);
        Assert.Equal(["created", "updated", "deleted", "erased"], events.Select(e => (string)e["kind"]!));
        Assert.All(events, e => Assert.Null(e["changes"]));
        Assert.All(events, e => Assert.NotNull(e["erased_at"]));
        Assert.Equal("name", events[1]["fields"]);

        // Gone from every read; a retry of the original create does not bring the person back.
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync(PathOf(id))).StatusCode);
        await AssertProblemAsync(await PostAsync(PathOf(id, "/restore")), HttpStatusCode.NotFound, "not-found");
        using (var retry = new HttpRequestMessage(HttpMethod.Post, "/customers") { Content = Json.Body(new { name = erasedName, email, phone = erasedPhone }) })
        {
            retry.Headers.Add("Idempotency-Key", key);
            await AssertProblemAsync(await Client.SendAsync(retry), HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");
        }

        // Erasing again is answered the same, and writes no second event; the bystander is untouched.
        Assert.Equal(HttpStatusCode.NoContent, (await PostAsync(PathOf(id, "/erase"))).StatusCode);
        Assert.Equal(4, (await EventsAsync(id)).Count);
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync(PathOf(untouched))).StatusCode);
        Assert.Equal("name,email,phone", (await EventsAsync(untouched))[0]["fields"]);
        Assert.NotNull((await EventsAsync(untouched))[0]["changes"]);
    }

    private static string Dump(List<Dictionary<string, object?>> rows)
    {
        var text = new StringBuilder();
        foreach (var row in rows)
        {
            foreach (var value in row.Values)
            {
                text.Append(value switch
                {
                    byte[] bytes => Encoding.UTF8.GetString(bytes),
                    null => string.Empty,
                    _ => Convert.ToString(value, CultureInfo.InvariantCulture),
                }).Append('|');
            }

            text.Append('\n');
        }

        return text.ToString();
    }
}

/// <summary>The lifecycle over the embedded default.</summary>
public sealed class SqliteCustomerLifecycleTests : CustomerLifecycleContract
{
    protected override Task<Dictionary<string, string?>> NewDatabaseSettingsAsync() => SqliteDatabaseAsync();
}

/// <summary>The lifecycle over a real MariaDB server.</summary>
[Collection(MariaDbCollection.Name)]
public sealed class MariaDbCustomerLifecycleTests(MariaDbFixture mariaDb) : CustomerLifecycleContract
{
    protected override Task<Dictionary<string, string?>> NewDatabaseSettingsAsync() => MariaDbDatabaseAsync(mariaDb, seedSampleData: false);
}
