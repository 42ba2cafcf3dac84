using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using CustomerRecords.Api.Data;
using CustomerRecords.Tests.Caching;
using CustomerRecords.Tests.Hosting;
using CustomerRecords.Tests.Cli;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using Xunit.Abstractions;

namespace CustomerRecords.Tests.Data;

/// <summary>
/// <c>Database:ReadOnly</c> (an Aurora Global Database secondary): reads are served, every write route of both API
/// surfaces answers 503 <c>read-only-region</c> with <c>Retry-After: 60</c> and writes nothing; start-up checks the
/// schema instead of migrating. And <c>Database:WriteForwarding</c>, which MariaDB can only show in part: that its
/// SET is sent on each new connection (through a user variable standing in for Aurora's session variable) and that a
/// server without the variable stops start-up with one clear message. Whether Aurora then forwards writes is not tested.
/// </summary>
[Collection(MariaDbCollection.Name)]
public sealed class ReadOnlyRegionTests(MariaDbFixture mariaDb, ITestOutputHelper output)
{
    [Fact]
    public async Task ReadsAreServedAndEveryWriteRouteAnswers503ReadOnlyRegionWritingNothing()
    {
        using var directory = new TempDirectory();
        var settings = CustomerApiFactory.SqliteSettings(directory.Path);
        var id = await WithOneCustomerAsync(settings);

        var database = settings["ConnectionStrings:Customers"]!;
        var before = await SnapshotAsync(database);
        var readOnly = new Dictionary<string, string?>(settings) { ["Database:ReadOnly"] = "true" };
        await using var region = new CustomerApiFactory(readOnly);
        using var client = region.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/customers/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/customers?limit=5")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/read/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);

        foreach (var (method, path, content, original) in Writes(id))
        {
            using var request = new HttpRequestMessage(method, path) { Content = content };
            request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString("N"));
            using var response = await client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            output.WriteLine($"{method} {path}: {(int)response.StatusCode} Retry-After {response.Headers.RetryAfter?.Delta} {text}");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(60), response.Headers.RetryAfter?.Delta);
            var json = JsonNode.Parse(text)!;
            if (original)
            {
                Assert.Equal("This region is read-only", (string?)json["error"]);
            }
            else
            {
                Assert.Equal("urn:customer-records:problem:read-only-region", (string?)json["type"]);
                Assert.Equal(503, (int)json["status"]!);
            }
        }

        Assert.Equal(before, await SnapshotAsync(database));
    }

    /// <summary>Migrates the database of <paramref name="settings"/> (rate limiting off) as a primary region would and creates one customer; returns its id.</summary>
    internal static async Task<int> WithOneCustomerAsync(Dictionary<string, string?> settings)
    {
        settings["RateLimit:Enabled"] = "false";
        await using var primary = new CustomerApiFactory(settings);
        using var writer = primary.CreateClient();
        var created = await writer.PostAsync("/customers", Json.Body(new { name = "Replicated", email = Json.UniqueEmail("region") }));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (int)(await created.ReadObjectAsync())["id"]!;
    }

    /// <summary>A request to every write route of both API surfaces for customer <paramref name="id"/>; Original = the original routes.</summary>
    internal static (HttpMethod Method, string Path, HttpContent? Content, bool Original)[] Writes(int id)
    {
        var body = new { name = "Changed", email = Json.UniqueEmail("region") };
        return
        [
            (HttpMethod.Post, "/customers", Json.Body(body), false),
            (HttpMethod.Put, $"/customers/{id}", Json.Body(body), false),
            (HttpMethod.Patch, $"/customers/{id}", Json.Body(new { name = "Changed" }, "application/merge-patch+json"), false),
            (HttpMethod.Delete, $"/customers/{id}", null, false),
            (HttpMethod.Post, $"/customers/{id}/restore", null, false),
            (HttpMethod.Post, $"/customers/{id}/erase", null, false),
            (HttpMethod.Post, "/create", Json.Body(body), true),
            (HttpMethod.Put, $"/update/{id}", Json.Body(body), true),
            (HttpMethod.Delete, $"/delete/{id}", null, true),
        ];
    }

    [Fact]
    public async Task AReadOnlyRegionRefusesToStartOnASchemaOlderThanTheBuildAndNeverCreatesOne()
    {
        using var directory = new TempDirectory();
        var run = await ServiceBinary.RunAsync(directory.Path, [ServiceBinary.AsDeployed, "--Database:Provider=sqlite", $"--ConnectionStrings:Customers=Data Source={Path.Combine(directory.Path, "customers.db")}", "--Database:ReadOnly=true"]);

        var message = StartupFailureTests.AssertOneFailure(run, output);
        Assert.Contains("Database:ReadOnly is set and the database's schema is older than this build needs", message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(directory.Path, "customers.db")), "a read-only region must not create or migrate the database");
    }

    [Fact]
    public async Task WriteForwardingSendsItsSetOnEveryNewConnectionAndLetsWritesThrough()
    {
        var customers = await mariaDb.CreateDatabaseAsync();

        // The stand-in is a user variable, which the driver only lets through when told to.
        var settings = CustomerApiFactory.MySqlSettings(new MySqlConnectionStringBuilder(customers) { AllowUserVariables = true }.ConnectionString);
        settings["Cache:Mode"] = "None";
        settings["RateLimit:Enabled"] = "false";
        await using (var migrate = new CustomerApiFactory(settings))
        {
            migrate.CreateClient().Dispose();
        }

        settings["Database:ReadOnly"] = "true";
        settings["Database:WriteForwarding"] = "session";
        settings["History:SequenceInterval"] = "01:00:00";
        using var queries = new DbQueryCounter(customers);
        await using var factory = new CustomerApiFactory(settings);

        // MariaDB has no aurora_replica_read_consistency: a user variable takes its place, so the statement can succeed.
        await using var region = factory.WithWebHostBuilder(b => b.ConfigureServices(s =>
            s.PostConfigure<DatabaseOptions>(o => o.ReadConsistencyVariable = "@aurora_replica_read_consistency")));
        using var client = region.CreateClient();
        var created = await client.PostAsync("/customers", Json.Body(new { name = "Forwarded", email = Json.UniqueEmail("region") }));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        var statements = queries.Take();
        output.WriteLine(string.Join("\n", statements));
        Assert.Equal("SET @aurora_replica_read_consistency = 'SESSION'", statements[0]);
        Assert.Contains(statements, s => s.StartsWith("INSERT", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task WriteForwardingOnAServerWithoutTheVariableStopsStartUpWithOneClearMessage()
    {
        using var directory = new TempDirectory();
        var customers = await mariaDb.CreateDatabaseAsync();
        var migrated = await ServiceBinary.RunAsync(directory.Path, [ServiceBinary.AsDeployed, "migrate", "--Database:Provider=mysql", $"--ConnectionStrings:Customers={customers}"]);
        Assert.True(migrated.ExitCode == 0, migrated.ToString());

        var run = await ServiceBinary.RunAsync(directory.Path, [ServiceBinary.AsDeployed, "--Database:Provider=mysql", $"--ConnectionStrings:Customers={customers}", "--Database:ReadOnly=true", "--Database:WriteForwarding=session"]);

        var message = StartupFailureTests.AssertOneFailure(run, output);
        Assert.Contains("Database:WriteForwarding is 'session' but the database does not know aurora_replica_read_consistency", message, StringComparison.Ordinal);
        Assert.DoesNotContain(new MySqlConnectionStringBuilder(customers).Password, message, StringComparison.Ordinal);
    }

    /// <summary>Every table's row count and the customers' versions: any write changes one of them.</summary>
    private static async Task<string> SnapshotAsync(string connectionString)
    {
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = new SqliteCommand("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }

        var parts = new List<string>();
        foreach (var table in tables)
        {
            await using var count = new SqliteCommand($"SELECT COUNT(*) FROM \"{table}\"", connection);
            var rows = Convert.ToInt64(await count.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{table}={rows}"));
        }

        await using var versions = new SqliteCommand("SELECT group_concat(id || ':' || version || ':' || name) FROM customers", connection);
        var all = (string?)await versions.ExecuteScalarAsync();
        parts.Add("customers:" + all);
        return string.Join(", ", parts);
    }
}
