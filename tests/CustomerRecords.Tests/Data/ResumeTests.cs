using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using CustomerRecords.Tests.Infrastructure;
using MySqlConnector;
using Xunit.Abstractions;

namespace CustomerRecords.Tests.Data;

/// <summary>
/// <c>Database:ResumeTimeout</c> against an Aurora Serverless resume, played by <see cref="TcpProxy.HoldNewConnections"/>
/// in front of a real MariaDB: the pause drops every session, then new connections get no greeting for a while.
/// Requests sent meanwhile wait for the database instead of failing — reads and writes, keyed creates answered once —
/// and past the resume timeout they get 503 + Retry-After, with every write acknowledged before still there.
/// </summary>
[Trait("Category", "Faults")]
[Collection(FaultsCollection.Name)]
public sealed class ResumeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task RequestsSentWhileTheDatabaseResumesAllSucceedOnceItAnswers()
    {
        await using var server = await MariaDbServer.StartAsync();
        var direct = await server.CreateDatabaseAsync();
        await using var proxy = new TcpProxy(server.Port);
        var viaProxy = Through(proxy, direct);
        await using var factory = new CustomerApiFactory(FaultHost.Settings(viaProxy, resumeTimeout: TimeSpan.FromSeconds(25)));
        using var client = FaultHost.Client(factory);
        var acked = new AckedWritesChecker();
        var ids = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add(await CreateAsync(client, acked, "Before " + i));
        }

        var resumeAfter = TimeSpan.FromSeconds(15);
        proxy.HoldNewConnections(resumeAfter);
        var paused = Stopwatch.StartNew();
        var answers = new ConcurrentQueue<(string What, Timed Answer)>();
        var keyed = new ConcurrentQueue<(string Key, string Email, Timed Answer)>();

        // Three waves over the first 10 s of the 15 s resume: each request must wait, none may fail.
        var waves = Enumerable.Range(0, 3).Select(wave => Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(5 * wave));
            var sent = new List<Task>();
            for (var n = 0; n < 4; n++)
            {
                var id = ids[n];
                sent.Add(Task.Run(async () => answers.Enqueue(("GET one", await FaultHost.GetAsync(client, $"/customers/{id}")))));
                sent.Add(Task.Run(async () => answers.Enqueue(("GET list", await FaultHost.GetAsync(client, "/customers?limit=5")))));
                sent.Add(Task.Run(async () =>
                {
                    var name = $"Resumed {wave}.{n}";
                    var patch = await FaultHost.PatchAsync(client, id, new { name });
                    answers.Enqueue(("PATCH", patch));
                    if (patch.Status == HttpStatusCode.OK)
                    {
                        acked.UpdateAcknowledged(id, (int)JsonNode.Parse(patch.Body)!["version"]!, name);
                    }
                }));
                sent.Add(Task.Run(async () =>
                {
                    var email = Json.UniqueEmail("resume");
                    var key = Guid.NewGuid().ToString("N");
                    acked.CreateAttempted(email);
                    var post = await FaultHost.PostAsync(client, new { name = "Keyed", email }, key);
                    answers.Enqueue(("POST keyed", post));
                    keyed.Enqueue((key, email, post));
                    if (post.Status == HttpStatusCode.Created)
                    {
                        acked.CreateAcknowledged(email, (int)JsonNode.Parse(post.Body)!["id"]!);
                    }
                }));
            }

            await Task.WhenAll(sent);
        })).ToArray();
        await Task.WhenAll(waves);
        var over = paused.Elapsed;

        foreach (var group in answers.GroupBy(a => a.What).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var ms = group.Select(a => a.Answer.Elapsed.TotalMilliseconds).Order().ToArray();
            output.WriteLine($"{group.Key} x{ms.Length}: statuses {string.Join(",", group.Select(a => a.Answer.Code).Distinct())}, p50 {ms[ms.Length / 2]:F0} ms, max {ms[^1]:F0} ms");
        }

        var all = answers.Select(a => a.Answer.Elapsed.TotalMilliseconds).Order().ToArray();
        output.WriteLine($"{all.Length} requests during a {resumeAfter.TotalSeconds:F0} s resume: latency p50 {all[all.Length / 2]:F0} ms, max {all[^1]:F0} ms; all answered {over.TotalSeconds:F1} s after the pause");

        Assert.All(answers, a => Assert.True(a.Answer.Status is HttpStatusCode.OK or HttpStatusCode.Created, $"{a.What} answered {a.Answer} ({a.Answer.Body}) during the resume"));
        Assert.Equal(48, answers.Count);

        // Each keyed create, sent again with its key, is answered with the same customer: applied once.
        foreach (var (key, email, first) in keyed)
        {
            var again = await FaultHost.PostAsync(client, new { name = "Keyed", email }, key);
            Assert.Equal(HttpStatusCode.Created, again.Status);
            Assert.Equal((int)JsonNode.Parse(first.Body)!["id"]!, (int)JsonNode.Parse(again.Body)!["id"]!);
        }

        Assert.Empty(await acked.CheckAsync(direct));
    }

    [Fact]
    public async Task PastTheResumeTimeoutRequestsGet503WithRetryAfterAndNoAcknowledgedWriteIsLost()
    {
        await using var server = await MariaDbServer.StartAsync();
        var direct = await server.CreateDatabaseAsync();
        await using var proxy = new TcpProxy(server.Port);
        var resumeTimeout = TimeSpan.FromSeconds(20);
        await using var factory = new CustomerApiFactory(FaultHost.Settings(Through(proxy, direct), resumeTimeout: resumeTimeout));
        using var client = FaultHost.Client(factory);
        var acked = new AckedWritesChecker();
        var ids = new List<int>();
        for (var i = 0; i < 6; i++)
        {
            ids.Add(await CreateAsync(client, acked, "Before " + i));
        }

        for (var i = 0; i < ids.Count; i++)
        {
            var name = "Updated " + i;
            var patch = await FaultHost.PatchAsync(client, ids[i], new { name });
            Assert.Equal(HttpStatusCode.OK, patch.Status);
            acked.UpdateAcknowledged(ids[i], (int)JsonNode.Parse(patch.Body)!["version"]!, name);
        }

        proxy.HoldNewConnections(TimeSpan.FromSeconds(30));
        var answers = await Task.WhenAll(
            Enumerable.Range(0, 3).Select(n => FaultHost.GetAsync(client, $"/customers/{ids[n]}"))
                .Concat(Enumerable.Range(0, 3).Select(n => FaultHost.PatchAsync(client, ids[n], new { name = "During" })))
                .Concat(Enumerable.Range(0, 3).Select(_ => FaultHost.PostAsync(client, new { name = "During", email = Json.UniqueEmail("resume") }, Guid.NewGuid().ToString("N")))));

        var ms = answers.Select(a => a.Elapsed.TotalMilliseconds).Order().ToArray();
        output.WriteLine($"database not answering for 30 s, Database:ResumeTimeout {resumeTimeout.TotalSeconds:F0} s: {answers.Length} requests answered {string.Join(",", answers.Select(a => a.Code).Distinct())} after min {ms[0]:F0} ms, max {ms[^1]:F0} ms, Retry-After {answers[0].RetryAfter}");

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.ServiceUnavailable, a.Status));
        Assert.All(answers, a => Assert.Equal(TimeSpan.FromSeconds(5), a.RetryAfter));

        // They waited for the database (no fail-fast 503 at the 3 s connect timeout), and were answered before the 30 s request timeout.
        Assert.All(answers, a => Assert.True(a.Elapsed >= resumeTimeout - TimeSpan.FromSeconds(1), $"answered {a} before Database:ResumeTimeout"));
        Assert.All(answers, a => Assert.True(a.Elapsed < TimeSpan.FromSeconds(30), $"answered {a}: past Limits:RequestTimeout"));

        // The "During" writes were never sent (no connection opened): the table holds what was acknowledged before.
        await FaultHost.WaitForOkAsync(client, "/customers?limit=5", TimeSpan.FromSeconds(40));
        Assert.Empty(await acked.CheckAsync(direct));
        await using var connection = FaultHost.Open(direct);
        await using var during = new MySqlCommand("SELECT COUNT(*) FROM customers WHERE name = 'During'", connection);
        Assert.Equal(0L, Convert.ToInt64(await during.ExecuteScalarAsync(), CultureInfo.InvariantCulture));
    }

    private static string Through(TcpProxy proxy, string direct) =>
        new MySqlConnectionStringBuilder(direct) { Server = "127.0.0.1", Port = (uint)proxy.Port }.ConnectionString;

    private static async Task<int> CreateAsync(HttpClient client, AckedWritesChecker acked, string name)
    {
        var email = Json.UniqueEmail("resume");
        var created = await FaultHost.PostAsync(client, new { name, email });
        Assert.Equal(HttpStatusCode.Created, created.Status);
        var id = (int)JsonNode.Parse(created.Body)!["id"]!;
        acked.CreateAcknowledged(email, id);
        return id;
    }
}
