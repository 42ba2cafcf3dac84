using System.Net;
using System.Text.Json.Nodes;
using CustomerRecords.Tests.Infrastructure;
using Xunit.Abstractions;

namespace CustomerRecords.Tests.Data;

/// <summary>
/// A primary and a GTID replica of our own (these tests stop replication and kill the replica):
/// plain reads go to the replica, reads of what this instance just wrote go to the writer, and a
/// dead replica costs nothing but a fall-back to the writer.
/// </summary>
[Trait("Category", "Faults")]
[Collection(FaultsCollection.Name)]
public sealed class ReplicaRoutingTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan OperationTimeout = TimeSpan.FromSeconds(5);

    // Generous: the machine is shared with builds; the point is "bounded", not "fast".
    private static readonly TimeSpan Bound = OperationTimeout + TimeSpan.FromSeconds(3);

    private MariaDbServer _primary = null!;
    private MariaDbServer _replica = null!;
    private string _writer = null!;
    private CustomerApiFactory _factory = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        var primary = MariaDbServer.StartAsync(new MariaDbServerOptions { EnableBinlog = true });
        var replica = MariaDbServer.StartAsync(new MariaDbServerOptions { EnableBinlog = true, ReadOnly = true });
        _primary = await primary;
        _replica = await replica;
        await _replica.ConfigureAsReplicaOfAsync(_primary);
        _writer = await _primary.CreateDatabaseAsync();

        var settings = FaultHost.Settings(_writer, _replica.RetargetConnectionString(_writer), OperationTimeout);
        settings["Database:ReadYourWritesWindow"] = "00:00:03";
        _factory = new CustomerApiFactory(settings);
        _client = FaultHost.Client(_factory); // starts the app: migrations run on the primary
        await _replica.WaitForReplicationCatchUpAsync(_primary, TimeSpan.FromSeconds(30));
        await _replica.StopReplicationAsync();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        await _replica.DisposeAsync();
        await _primary.DisposeAsync();
    }

    [Fact]
    public async Task PlainReadsAreAnsweredByTheReplicaNotThePrimary()
    {
        var database = new MySqlConnector.MySqlConnectionStringBuilder(_writer).Database;
        await _primary.ExecuteAsync(Insert(database, 800001, "primary.only@example.com"));
        await _replica.ExecuteAsync("SET SESSION sql_log_bin = 0; " + Insert(database, 900001, "replica.only@example.com"));

        // The row only the primary has is invisible: the replica alone was asked.
        Assert.Equal(HttpStatusCode.NotFound, (await FaultHost.GetAsync(_client, "/customers/800001")).Status);
        Assert.Empty(await ListByEmailAsync("primary.only@example.com"));

        // The row only the replica has is served.
        var row = Assert.Single(await ListByEmailAsync("replica.only@example.com"));
        Assert.Equal(900001, (int)row!["id"]!);
        Assert.Equal(HttpStatusCode.OK, (await FaultHost.GetAsync(_client, "/customers/900001")).Status);
    }

    [Fact]
    public async Task ThisInstancesOwnWritesAreReadFromTheWriterUntilTheWindowCloses()
    {
        var created = await FaultHost.PostAsync(_client, new { name = "Fresh", email = Json.UniqueEmail("ryw") });
        Assert.Equal(HttpStatusCode.Created, created.Status);
        var id = (int)JsonNode.Parse(created.Body)!["id"]!;

        // Replication is stopped, so the replica never gets this row: a 200 can only come from the writer.
        var read = await FaultHost.GetAsync(_client, $"/customers/{id}");
        Assert.Equal(HttpStatusCode.OK, read.Status);

        var patched = await FaultHost.PatchAsync(_client, id, new { name = "Fresher" });
        Assert.Equal(HttpStatusCode.OK, patched.Status);
        var reread = await FaultHost.GetAsync(_client, $"/customers/{id}");
        Assert.Equal(HttpStatusCode.OK, reread.Status);
        Assert.Equal("Fresher", (string?)JsonNode.Parse(reread.Body)!["name"]);

        // Once the window (3 s here) has passed, reads go back to the replica, which never saw the row.
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.Equal(HttpStatusCode.NotFound, (await FaultHost.GetAsync(_client, $"/customers/{id}")).Status);
    }

    [Fact]
    public async Task ReadsFallBackToTheWriterWhenTheReplicaIsKilled()
    {
        var database = new MySqlConnector.MySqlConnectionStringBuilder(_writer).Database;
        await _primary.ExecuteAsync(Insert(database, 800002, "writer.row@example.com"));
        Assert.Equal(HttpStatusCode.NotFound, (await FaultHost.GetAsync(_client, "/customers/800002")).Status); // replica first

        await _replica.KillAsync();

        var answers = new List<(string Path, Timed Answer)>();
        for (var i = 0; i < 10; i++)
        {
            foreach (var path in new[] { "/customers", "/customers/800002", "/customers?email=writer.row@example.com" })
            {
                answers.Add((path, await FaultHost.GetAsync(_client, path)));
            }
        }

        foreach (var (path, answer) in answers.Take(6))
        {
            output.WriteLine($"replica dead: GET {path} -> {answer}");
        }

        output.WriteLine($"replica dead: {answers.Count} reads, slowest {answers.Max(a => a.Answer.Elapsed).TotalMilliseconds:F0} ms");
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.Answer.Status));
        Assert.All(answers, a => Assert.True(a.Answer.Elapsed < Bound, $"GET {a.Path} took {a.Answer.Elapsed}"));

        // The writer's row is now visible: the reads really went to the writer.
        Assert.Single(await ListByEmailAsync("writer.row@example.com"));
    }

    private async Task<JsonArray> ListByEmailAsync(string email)
    {
        var answer = await FaultHost.GetAsync(_client, "/customers?email=" + Uri.EscapeDataString(email));
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        return JsonNode.Parse(answer.Body)!["items"]!.AsArray();
    }

    private static string Insert(string database, int id, string email) => $"""
        INSERT INTO `{database}`.customers (id, name, email, email_key, name_key, created_at, updated_at)
        VALUES ({id}, 'Direct {id}', '{email}', '{email}', 'direct {id}', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))
        """;
}
