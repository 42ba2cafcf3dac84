using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CustomerRecords.Tests.Infrastructure;
using MySqlConnector;

namespace CustomerRecords.Tests.Data;

/// <summary>
/// With <c>Connection Reset=false</c> pooled connections are not reset (so not checked) when taken: one the server closed
/// meanwhile (a restart, a failover, wait_timeout) fails at its first statement. Reads and writes must still succeed,
/// each write applied once (a write's failed BEGIN is marked as not sent, see DbTransactions).
/// </summary>
[Collection(MariaDbCollection.Name)]
public sealed class ClosedPooledConnectionTests(MariaDbFixture mariaDb)
{
    [Fact]
    public async Task WritesAndReadsSucceedOnceWhenTheServerHasClosedEveryPooledConnection()
    {
        var customers = await mariaDb.CreateDatabaseAsync();
        var settings = CustomerApiFactory.MySqlSettings(customers + ";Connection Reset=false");
        settings["Cache:Mode"] = "None"; // every read reaches the database
        await using var factory = new CustomerApiFactory(settings);
        using var client = factory.CreateClient();
        var created = await (await client.PostAsJsonAsync("/customers", new { name = "Pooled", email = "pooled@example.com" })).Content.ReadFromJsonAsync<JsonObject>();
        var id = (int)created!["id"]!;
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/customers/{id}")).StatusCode);

        foreach (var (request, expected) in new (Func<Task<HttpResponseMessage>>, HttpStatusCode)[]
        {
            (() => client.PatchAsJsonAsync($"/customers/{id}", new { name = "Pooled Twice" }), HttpStatusCode.OK),
            (() => client.GetAsync($"/customers/{id}"), HttpStatusCode.OK),
            (() => client.PostAsJsonAsync("/customers", new { name = "Another", email = "another@example.com" }), HttpStatusCode.Created),
        })
        {
            Assert.True(await KillConnectionsOfAsync(customers) > 0, "the service had pooled connections to close");
            using var response = await request();
            Assert.Equal(expected, response.StatusCode);
        }

        var current = await client.GetFromJsonAsync<JsonObject>($"/customers/{id}");
        Assert.Equal(("Pooled Twice", 2), ((string?)current!["name"], (int)current["version"]!));
        var history = await client.GetFromJsonAsync<JsonObject>($"/customers/{id}/history");
        Assert.Equal(["created", "updated"], history!["items"]!.AsArray().Select(e => (string)e!["kind"]!).Order().ToArray());
        var list = await client.GetFromJsonAsync<JsonObject>("/customers?email=another@example.com");
        Assert.Single(list!["items"]!.AsArray());
    }

    /// <summary>Closes, server side, every connection the service holds to <paramref name="database"/>.</summary>
    private async Task<int> KillConnectionsOfAsync(string database)
    {
        var name = new MySqlConnectionStringBuilder(database).Database;
        await using var root = new MySqlConnection(mariaDb.Server.RootConnectionString);
        await root.OpenAsync();
        var ids = new List<long>();
        await using (var find = new MySqlCommand("SELECT id FROM information_schema.processlist WHERE db = @db AND id <> CONNECTION_ID()", root))
        {
            find.Parameters.AddWithValue("@db", name);
            await using var reader = await find.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                ids.Add(reader.GetInt64(0));
            }
        }

        foreach (var id in ids)
        {
            await using var kill = new MySqlCommand($"KILL CONNECTION {id}", root);
            try
            {
                await kill.ExecuteNonQueryAsync();
            }
            catch (MySqlException e) when (e.ErrorCode == MySqlErrorCode.NoSuchThread)
            {
                // It closed on its own meanwhile.
            }
        }

        return ids.Count;
    }
}
