using System.Net;
using System.Text.Json.Nodes;
using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.Data;

/// <summary>The checker the crash tests rely on must itself notice lost, duplicated and rolled-back writes.</summary>
[Trait("Category", "Faults")]
[Collection(FaultsCollection.Name)]
public sealed class AckedWritesCheckerTests : IAsyncLifetime
{
    private MariaDbServer _server = null!;
    private string _connectionString = null!;
    private CustomerApiFactory _factory = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await MariaDbServer.StartAsync();
        _connectionString = await _server.CreateDatabaseAsync();
        _factory = new CustomerApiFactory(FaultHost.Settings(_connectionString));
        _client = FaultHost.Client(_factory);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task IntactAcknowledgedWritesPass()
    {
        var checker = new AckedWritesChecker();
        var ids = await CreateAckedAsync(checker, 3);
        await UpdateAckedAsync(checker, ids[0], "Renamed");

        Assert.Empty(await checker.CheckAsync(_connectionString));
    }

    [Fact]
    public async Task RowDeletedBehindItsBackIsReportedMissing()
    {
        var checker = new AckedWritesChecker();
        var ids = await CreateAckedAsync(checker, 3);
        await Execute($"DELETE FROM customers WHERE id = {ids[1]}");

        var problem = Assert.Single(await checker.CheckAsync(_connectionString));
        Assert.StartsWith("missing:", problem, StringComparison.Ordinal);
        Assert.Contains($"id {ids[1]}", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecondRowWithAnAcknowledgedEmailIsReportedDuplicate()
    {
        var checker = new AckedWritesChecker();
        var ids = await CreateAckedAsync(checker, 2);

        // The unique index would refuse the duplicate a double-applied create would make; drop it to fake one.
        await Execute("ALTER TABLE customers DROP INDEX ux_customers_live_email");
        await Execute($"""
            INSERT INTO customers (name, email, email_key, name_key, created_at, updated_at)
            SELECT name, email, email_key, name_key, created_at, updated_at FROM customers WHERE id = {ids[0]}
            """);

        var problem = Assert.Single(await checker.CheckAsync(_connectionString));
        Assert.StartsWith("duplicate:", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpdateRolledBackBehindItsBackIsReportedLost()
    {
        var checker = new AckedWritesChecker();
        var ids = await CreateAckedAsync(checker, 2);
        await UpdateAckedAsync(checker, ids[0], "First");
        await UpdateAckedAsync(checker, ids[1], "Second");
        await Execute($"UPDATE customers SET version = version - 1 WHERE id = {ids[0]}");
        await Execute($"UPDATE customers SET name = 'Someone else' WHERE id = {ids[1]}");

        var problems = await checker.CheckAsync(_connectionString);
        Assert.Equal(2, problems.Count);
        Assert.All(problems, p => Assert.StartsWith("lost update:", p, StringComparison.Ordinal));
    }

    private async Task<int[]> CreateAckedAsync(AckedWritesChecker checker, int count)
    {
        var ids = new int[count];
        for (var i = 0; i < count; i++)
        {
            var email = Json.UniqueEmail("checker");
            var response = await _client.PostAsync("/customers", Json.Body(new { name = "Checked " + i, email }));
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            ids[i] = (int)(await response.ReadObjectAsync())["id"]!;
            checker.CreateAcknowledged(email, ids[i]);
        }

        return ids;
    }

    private async Task UpdateAckedAsync(AckedWritesChecker checker, int id, string name)
    {
        var answer = await FaultHost.PatchAsync(_client, id, new { name });
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        var body = JsonNode.Parse(answer.Body)!;
        checker.UpdateAcknowledged(id, (int)body["version"]!, (string)body["name"]!);
    }

    private async Task Execute(string sql)
    {
        await using var connection = FaultHost.Open(_connectionString);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
