using System.Net;
using System.Text.Json.Nodes;
using CustomerRecords.Tests.Caching;
using CustomerRecords.Tests.Data;
using CustomerRecords.Tests.Infrastructure;
using MySqlConnector;
using Xunit.Abstractions;

namespace CustomerRecords.Tests.Operations;

/// <summary>
/// How often <c>/health/ready</c> touches the database, counted in statements the database ran
/// (<see cref="DbQueryCounter"/>): the probe is <c>SELECT 1</c>; the change feed's sequencer, which polls on its own,
/// is excluded by the counter and slowed to once an hour so that its verdicts do not stand in for the probe's.
/// </summary>
[Collection(MariaDbCollection.Name)]
public sealed class ReadinessTests(MariaDbFixture mariaDb, ITestOutputHelper output)
{
    private const int Calls = 20;

    [Fact]
    public async Task ReadinessProbesTheDatabaseAtMostOncePerIntervalAndNotAtAllUnderTraffic()
    {
        var customers = await mariaDb.CreateDatabaseAsync();
        await using var factory = new CustomerApiFactory(Settings(customers, ("Health:DatabaseProbeInterval", "00:05:00")));
        using var client = factory.CreateClient();
        using var queries = new DbQueryCounter(customers);
        queries.Take();

        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < Calls; i++)
        {
            answers.Add((await client.GetAsync("/health/ready")).StatusCode);
        }

        var idle = queries.Take();
        output.WriteLine($"{Calls} /health/ready calls, no traffic: {idle.Count} statements ({string.Join("; ", idle)})");
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a));
        Assert.Equal(["SELECT 1"], idle);

        // Traffic's own operations are the verdict: readiness adds nothing while they are recent.
        var traffic = await factory.CreateClient().GetAsync("/customers?limit=1");
        Assert.Equal(HttpStatusCode.OK, traffic.StatusCode);
        queries.Take();
        for (var i = 0; i < Calls; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
        }

        Assert.Empty(queries.Take());
    }

    [Fact]
    public async Task WithIntervalZeroEveryReadinessCallProbes()
    {
        var customers = await mariaDb.CreateDatabaseAsync();
        await using var factory = new CustomerApiFactory(Settings(customers, ("Health:DatabaseProbeInterval", "00:00:00")));
        using var client = factory.CreateClient();
        using var queries = new DbQueryCounter(customers);
        queries.Take();
        for (var i = 0; i < Calls; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
        }

        Assert.Equal(Enumerable.Repeat("SELECT 1", Calls), queries.Take());
    }

    [Fact]
    public async Task WithoutIdleProbesAnIdleDatabaseIsLeftAloneButABrokenOneFailsReadinessOnceTrafficMeetsIt()
    {
        var direct = await mariaDb.CreateDatabaseAsync();
        await using var proxy = new TcpProxy((int)new MySqlConnectionStringBuilder(direct).Port);
        var viaProxy = new MySqlConnectionStringBuilder(direct) { Server = "127.0.0.1", Port = (uint)proxy.Port }.ConnectionString;
        await using var factory = new CustomerApiFactory(Settings(
            viaProxy,
            ("Health:DatabaseProbeInterval", "00:00:01"),
            ("Health:ProbeIdleDatabase", "false"),
            ("Database:ResumeTimeout", "00:00:00"),
            ("Database:OperationTimeout", "00:00:02")));
        using var client = factory.CreateClient();
        using var queries = new DbQueryCounter(direct);
        queries.Take();
        var accepted = proxy.Accepted;

        // Idle for longer than the interval, many times over: not one statement, not one new connection.
        for (var i = 0; i < Calls; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
            await Task.Delay(150);
        }

        Assert.Empty(queries.Take());
        Assert.Equal(accepted, proxy.Accepted);

        // The database stops answering; the first request that needs it fails, and readiness says so without a probe.
        proxy.HoldNewConnections(TimeSpan.FromMinutes(5));
        var failed = await client.GetAsync("/customers?limit=1");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        var ready = await client.GetAsync("/health/ready");
        var body = JsonNode.Parse(await ready.Content.ReadAsStringAsync())!;
        output.WriteLine($"after a failed request: /health/ready {(int)ready.StatusCode} {body["checks"]?["database"]?.ToJsonString()}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);

        // Back: readiness probes (a failed database is worth probing) and recovers with no traffic needed.
        proxy.HoldNewConnections(TimeSpan.Zero);
        await Eventually.WithinAsync(TimeSpan.FromSeconds(30), "readiness recovers", async () =>
            (await client.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK);
        Assert.Contains("SELECT 1", queries.Take());
    }

    private static Dictionary<string, string?> Settings(string customers, params (string Key, string Value)[] overrides)
    {
        var settings = CustomerApiFactory.MySqlSettings(customers);
        settings["Cache:Mode"] = "None";
        settings["Database:SeedSampleData"] = "false";
        settings["RateLimit:Enabled"] = "false";
        settings["History:SequenceInterval"] = "01:00:00";
        foreach (var (key, value) in overrides)
        {
            settings[key] = value;
        }

        return settings;
    }
}
