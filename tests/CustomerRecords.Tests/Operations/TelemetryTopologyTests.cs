using System.Net;
using System.Text.RegularExpressions;
using CustomerRecords.Api.Data;
using CustomerRecords.Tests.Infrastructure;
using CustomerRecords.Tests.Redaction;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MySqlConnector;
using Xunit.Abstractions;

namespace CustomerRecords.Tests.Operations;

/// <summary>
/// Metrics and logs leave the host (Prometheus, OTLP, CloudWatch): they name connection pools by role,
/// never by connection string, so neither credentials nor the database's address, port or name reach them.
/// </summary>
[Collection(MariaDbCollection.Name)]
public sealed partial class TelemetryTopologyTests(MariaDbFixture mariaDb, ITestOutputHelper output)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PoolsAreNamedByRoleAndNoLabelOrLogLineCarriesTheConnectionString(bool withReplica)
    {
        var writer = new MySqlConnectionStringBuilder(await mariaDb.CreateDatabaseAsync());
        var settings = CustomerApiFactory.MySqlSettings(writer.ConnectionString);
        settings["RateLimit:Enabled"] = "false";
        if (withReplica)
        {
            // A reader endpoint string as operators write it: address only, credentials and database from the writer's.
            settings["ConnectionStrings:CustomersReadOnly"] = $"Server={writer.Server};Port={writer.Port}";
        }

        var logs = new LogCapture();
        await using var factory = new CustomerApiFactory(settings)
            .WithWebHostBuilder(b => b.UseEnvironment("Production").ConfigureLogging(l => l.AddProvider(logs)));
        using var client = factory.CreateClient();

        await SomeTrafficAsync(client);
        if (withReplica)
        {
            // A failover replaces the writer pool (a read-only answer from the writer); the new pool keeps the role name.
            var database = factory.Services.GetRequiredService<AppDatabase>();
            Assert.True(database.ReplaceWriter(database.Writer));
            await SomeTrafficAsync(client);
        }

        var labels = await ScrapeLabelsAsync(client);
        var pools = labels.Where(l => l.Name.Contains("pool", StringComparison.Ordinal)).Select(l => l.Value).ToHashSet();
        output.WriteLine($"pool labels: {string.Join(", ", labels.Where(l => l.Name.Contains("pool", StringComparison.Ordinal)).Select(l => $"{l.Name}={l.Value}").Distinct())}");
        output.WriteLine($"{labels.Count} label values scraped; {logs.Entries.Count} log entries captured");

        Assert.Equal(withReplica ? ["replica", "writer"] : ["writer"], pools.Order(StringComparer.Ordinal));
        var leaks = Leaks(writer);
        Assert.All(labels, l => Assert.DoesNotContain(leaks, leak => Contains(l.Value, leak)));
        Assert.All(labels, l => Assert.NotEqual(writer.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), l.Value));
        Assert.All(logs.Entries, e => Assert.False(
            leaks.Except(NamesTheDatabaseOnPurpose(e) ? [writer.Database] : []).Any(leak => Contains(e.Text, leak)),
            $"{e.Category} ({e.Level}) logged the connection string or its parts: {e.Text}"));
    }

    /// <summary>Creates, reads (hit and miss), lists and patches, so every pool opens connections.</summary>
    private static async Task SomeTrafficAsync(HttpClient client)
    {
        for (var i = 0; i < 3; i++)
        {
            using var created = await client.PostAsync(new Uri("/customers", UriKind.Relative), Json.Body(new { name = "Metric", email = Json.UniqueEmail("telemetry") }));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var location = created.Headers.Location!;
            (await client.GetAsync(location)).EnsureSuccessStatusCode();
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(new Uri($"/customers/{900_000 + i}", UriKind.Relative))).StatusCode);
            (await client.GetAsync(new Uri("/customers?limit=5", UriKind.Relative))).EnsureSuccessStatusCode();
            using var patch = new HttpRequestMessage(HttpMethod.Patch, location) { Content = Json.Body(new { name = "Patched" }, "application/merge-patch+json") };
            (await client.SendAsync(patch)).EnsureSuccessStatusCode();
        }
    }

    /// <summary>Every label of every sample; polls because the exporter caches a scrape and pools report late.</summary>
    private static async Task<List<(string Name, string Value)>> ScrapeLabelsAsync(HttpClient client)
    {
        var labels = new List<(string Name, string Value)>();
        for (var attempt = 0; attempt < 20; attempt++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(attempt == 0 ? 0 : 350));
            using var response = await client.GetAsync(new Uri("/metrics", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await response.Content.ReadAsStringAsync();
            labels = body.Split('\n')
                .Where(line => !line.StartsWith('#'))
                .SelectMany(line => Label().Matches(line).Select(m => (m.Groups["name"].Value, Regex.Unescape(m.Groups["value"].Value))))
                .Distinct()
                .ToList();
            if (labels.Any(l => l.Name.Contains("pool", StringComparison.Ordinal)))
            {
                break;
            }
        }

        return labels;
    }

    /// <summary>What must not leave the host: connection-string keywords, the credentials, the database's name and address.</summary>
    private static string[] Leaks(MySqlConnectionStringBuilder writer) =>
    [
        "Server=", "User ID=", "Password=", "Database=", "Port=",
        writer.UserID, writer.Password, writer.Database,
        $"{writer.Server}:{writer.Port}",
    ];

    /// <summary>The one start-up line that tells the operator which database this instance uses (its name and host, no credentials).</summary>
    private static bool NamesTheDatabaseOnPurpose(LogCapture.Entry entry) =>
        entry is { Category: "CustomerRecords.Api.Data", EventId.Id: 1000 };

    private static bool Contains(string text, string leak) => text.Contains(leak, StringComparison.OrdinalIgnoreCase);

    [GeneratedRegex("""(?<name>[a-zA-Z_][a-zA-Z0-9_]*)="(?<value>(?:[^"\\]|\\.)*)"\s*[,}]""")]
    private static partial Regex Label();
}
