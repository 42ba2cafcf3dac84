using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using CustomerRecords.Tests.Infrastructure;
using MySqlConnector;
using Xunit.Abstractions;

namespace CustomerRecords.Tests.Data;

/// <summary>
/// An Aurora/RDS-style failover: the writer endpoint (here a TCP proxy) flips to the promoted
/// replica while the pool still holds connections to the old writer, which is now read-only.
/// What must hold: writes keep succeeding (read-only errors clear the pool and retry on the new
/// writer) and no client ever sees a 500.
/// </summary>
[Trait("Category", "Faults")]
[Collection(FaultsCollection.Name)]
public sealed class FailoverTests(ITestOutputHelper output)
{
    private const int Clients = 16;
    private static readonly TimeSpan OperationTimeout = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task WritesMoveToThePromotedReplicaWithoutA500()
    {
        var startA = MariaDbServer.StartAsync(new MariaDbServerOptions { EnableBinlog = true });
        var startB = MariaDbServer.StartAsync(new MariaDbServerOptions { EnableBinlog = true, ReadOnly = true });
        await using var a = await startA;
        await using var b = await startB;
        await b.ConfigureAsReplicaOfAsync(a);

        var onA = await a.CreateDatabaseAsync();
        await using var proxy = new TcpProxy(a.Port);
        var viaProxy = new MySqlConnectionStringBuilder(onA) { Server = "127.0.0.1", Port = (uint)proxy.Port }.ConnectionString;
        await using var factory = new CustomerApiFactory(FaultHost.Settings(viaProxy, operationTimeout: OperationTimeout));
        using var client = FaultHost.Client(factory);

        var ids = new int[Clients];
        for (var i = 0; i < Clients; i++)
        {
            var created = await FaultHost.PostAsync(client, new { name = "Before " + i, email = Json.UniqueEmail("failover") });
            Assert.Equal(HttpStatusCode.Created, created.Status);
            ids[i] = (int)JsonNode.Parse(created.Body)!["id"]!;
        }

        // Warm the pool: several connections to A, idle and ready to be reused.
        for (var round = 0; round < 3; round++)
        {
            var warm = await Task.WhenAll(ids.Select(id => FaultHost.PatchAsync(client, id, new { name = $"Warm {round}" })));
            Assert.All(warm, w => Assert.Equal(HttpStatusCode.OK, w.Status));
        }

        var connectionsBefore = proxy.Accepted;

        // The failover: A demoted but reachable, B promoted, the endpoint flipped.
        await a.ExecuteAsync("SET GLOBAL read_only = 1");
        await b.WaitForReplicationCatchUpAsync(a, TimeSpan.FromSeconds(30));
        await b.ExecuteAsync("STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = 0");
        proxy.SwitchTo(b.Port);

        var answers = new ConcurrentQueue<(string What, Timed Answer)>();
        var emails = new ConcurrentQueue<string>();
        await Task.WhenAll(ids.Select((id, n) => Task.Run(async () =>
        {
            for (var round = 0; round < 3; round++)
            {
                answers.Enqueue(("PATCH", await FaultHost.PatchAsync(client, id, new { name = $"After {round}" })));
                var email = Json.UniqueEmail("failover");
                emails.Enqueue(email);
                answers.Enqueue(n % 2 == 0
                    ? ("POST", await FaultHost.PostAsync(client, new { name = "New", email }))
                    : ("POST keyed", await FaultHost.PostAsync(client, new { name = "New", email }, Guid.NewGuid().ToString("N"))));
            }
        })));

        var unavailable = answers.Count(x => x.Answer.Code == 503);
        output.WriteLine($"after the flip: {answers.Count} writes, statuses {string.Join(", ", answers.GroupBy(x => x.Answer.Code).Select(g => $"{g.Key}: {g.Count()}"))}, " +
            $"slowest {answers.Max(x => x.Answer.Elapsed).TotalMilliseconds:F0} ms; proxy connections {connectionsBefore} before, {proxy.Accepted} after");
        foreach (var (what, answer) in answers.Where(x => x.Answer.Code >= 300).Take(5))
        {
            output.WriteLine($"{what} -> {answer}: {answer.Body}");
        }

        Assert.DoesNotContain(answers, x => x.Answer.Code == 500 || x.Answer.Code == 0);
        Assert.True(unavailable == 0, $"{unavailable} writes answered 503 after the failover");
        Assert.All(answers, x => Assert.True(x.Answer.Code is 200 or 201, $"{x.What} -> {x.Answer}: {x.Answer.Body}"));

        // The writes are on B (the new writer), and A kept nothing new.
        var database = new MySqlConnectionStringBuilder(onA).Database;
        Assert.Equal(Clients, await b.ExecuteScalarAsync<int>($"SELECT COUNT(*) FROM `{database}`.customers WHERE name = 'After 2'"));
        Assert.Equal(emails.Count, await b.ExecuteScalarAsync<int>($"SELECT COUNT(*) FROM `{database}`.customers WHERE name = 'New'"));
        Assert.Equal(0, await a.ExecuteScalarAsync<int>($"SELECT COUNT(*) FROM `{database}`.customers WHERE name LIKE 'After%' OR name = 'New'"));
    }
}
