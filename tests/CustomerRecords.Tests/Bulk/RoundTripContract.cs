using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using CustomerRecords.Api.Bulk;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerRecords.Tests.Bulk;

/// <summary>
/// Export then import: a file written by <c>export</c>, imported into an empty database, gives back the same
/// customers — the same ids, names, emails, phones and creation times — in CSV and in NDJSON, on each engine.
/// </summary>
public abstract class RoundTripContract : ImportSuite
{
    /// <summary>Customers made through the API (so its rules hold), with what CSV must quote and what JSON must escape.</summary>
    private async Task<int> MakeCustomersAsync()
    {
        string?[][] people =
        [
            ["Doe, \"Jay\" Jr.", "jay@example.com", null],
            ["Zoë 日本 🙂", "zoe@example.com", "+81 (3) 1234-5678"],
            ["O'Brien; \\ back\\slash", "obrien@example.com", "555.0101"],
            .. Enumerable.Range(1, 40).Select(i => new string?[] { $"Person {i}", $"Person.{i}@Example.org", i % 4 == 0 ? null : $"+1 555 {i:0000}" }),
        ];
        foreach (var person in people)
        {
            var response = await Client.PostAsJsonAsync("/customers", new { name = person[0], email = person[1], phone = person[2] });
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }

        // A changed customer (version 2) and a deleted one (not exported, so not brought back).
        Assert.Equal(HttpStatusCode.OK, (await Client.PatchAsync(
            new Uri("/customers/5", UriKind.Relative),
            new StringContent("""{"name":"Renamed"}""", Encoding.UTF8, "application/merge-patch+json"))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync(new Uri("/customers/9", UriKind.Relative))).StatusCode);
        return people.Length - 1;
    }

    private async Task<string> ExportAsync(CustomerFileFormat format)
    {
        await using var snapshot = await Factory.Services.GetRequiredService<CustomerExport>().OpenAsync(null, CancellationToken.None);
        using var output = new MemoryStream();
        await snapshot.WriteAsync(output, format, null, CancellationToken.None);
        return Encoding.UTF8.GetString(output.ToArray());
    }

    /// <summary>Id, name, email, phone and creation time (to the microsecond) of every live customer, by id.</summary>
    private Task<List<string>> CustomersAsync()
    {
        using var probe = Connect();
        var row = probe is Microsoft.Data.Sqlite.SqliteConnection
            ? "id || '|' || name || '|' || email || '|' || COALESCE(phone, '<none>') || '|' || created_at"
            : "CONCAT(id, '|', name, '|', email, '|', COALESCE(phone, '<none>'), '|', DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s.%f'))";
        return ColumnAsync($"SELECT {row} FROM customers WHERE deleted_at IS NULL ORDER BY id");
    }

    private async Task EmptyTheDatabaseAsync()
    {
        await using var connection = Connect();
        await connection.OpenAsync();
        foreach (var table in new[] { "customer_events", "idempotency_keys", "customers" })
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"DELETE FROM {table}";
            await command.ExecuteNonQueryAsync();
        }
    }

    [Theory]
    [InlineData(CustomerFileFormat.Csv)]
    [InlineData(CustomerFileFormat.Ndjson)]
    public async Task AnExportImportedIntoAnEmptyDatabaseGivesBackTheSameCustomers(CustomerFileFormat format)
    {
        var live = await MakeCustomersAsync();
        var before = await CustomersAsync();
        Assert.Equal(live, before.Count);
        var file = await ExportAsync(format);

        await EmptyTheDatabaseAsync();
        Assert.Empty(await CustomersAsync());
        var rejected = new List<Api.Bulk.ImportRejection>();
        var summary = await ImportAsync(file, rejected: rejected, format: format);

        Assert.Empty(rejected);
        Assert.Equal((live, live, 0), (summary.Read, summary.Created, summary.ExitCode));
        Assert.Equal(before, await CustomersAsync());
        Assert.Equal(live, await ScalarAsync("SELECT COUNT(*) FROM customer_events WHERE kind = 'created'"));

        // And the service serves them: by id, and a new customer gets an id after the imported ones.
        var renamed = await GetObjectAsync("/customers/5");
        Assert.Equal("Renamed", (string?)renamed["name"]);
        var created = await Client.PostAsJsonAsync("/customers", new { name = "After", email = "after@example.com" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (int)(await created.ReadObjectAsync())["id"]!;
        Assert.True(id > live + 1, string.Create(CultureInfo.InvariantCulture, $"new id {id} after the imported ids"));

        // Exported again, the file holds the same customers (updated_at and version are the import's own).
        var again = await ExportAsync(format);
        Assert.Equal(Identities(file, format), Identities(again, format).Where(l => !l.Contains("after@example.com", StringComparison.Ordinal)));
    }

    /// <summary>Each exported customer's id, name, email, phone and created_at, in file order.</summary>
    private static List<string> Identities(string file, CustomerFileFormat format) => format == CustomerFileFormat.Csv
        ? [.. CustomerExportContract.ParseCsv(file).Skip(1).Select(r => string.Join('|', r.Take(5)))]
        : [.. file.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!.AsObject())
            .Select(o => string.Join('|', IdentityFields.Select(k => o[k]?.ToJsonString() ?? "null")))];

    private static readonly string[] IdentityFields = ["id", "name", "email", "phone", "created_at"];
}

/// <summary>Export → import on SQLite.</summary>
public sealed class SqliteRoundTripTests : RoundTripContract
{
    protected override Task<Dictionary<string, string?>> NewDatabaseSettingsAsync() => SqliteDatabaseAsync();
}

/// <summary>Export → import on MariaDB.</summary>
[Collection(MariaDbCollection.Name)]
public sealed class MariaDbRoundTripTests(MariaDbFixture mariaDb) : RoundTripContract
{
    protected override Task<Dictionary<string, string?>> NewDatabaseSettingsAsync() => MariaDbDatabaseAsync(mariaDb, seedSampleData: false);
}
