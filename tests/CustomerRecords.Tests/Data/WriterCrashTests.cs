using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using CustomerRecords.Tests.Infrastructure;
using Xunit.Abstractions;

namespace CustomerRecords.Tests.Data;

/// <summary>
/// The writer is SIGKILLed under load and started again. What must hold: every write the service
/// acknowledged survives, exactly once; no request outlives the operation timeout by much; every
/// failure is a 503 with Retry-After (never a 500); and the service serves again soon after.
/// </summary>
[Trait("Category", "Faults")]
[Collection(FaultsCollection.Name)]
public sealed class WriterCrashTests(ITestOutputHelper output)
{
    private const int Clients = 32;
    private const int SeededRows = 48;
    private static readonly TimeSpan OperationTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RunFor = TimeSpan.FromSeconds(22);
    private static readonly TimeSpan KillAt = TimeSpan.FromSeconds(7);
    private static readonly TimeSpan Downtime = TimeSpan.FromSeconds(3);

    // One database operation is bounded by OperationTimeout; the margin is for a loaded shared machine.
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(3);

    private enum Kind
    {
        Create,
        Update,
    }

    private readonly record struct Sample(Kind Kind, TimeSpan At, Timed Answer);

    [Fact]
    public async Task AcknowledgedWritesSurviveAKilledWriterAndFailuresAre503()
    {
        await using var server = await MariaDbServer.StartAsync();
        var connectionString = await server.CreateDatabaseAsync();
        await using var factory = new CustomerApiFactory(FaultHost.Settings(connectionString, operationTimeout: OperationTimeout));
        using var client = FaultHost.Client(factory);

        var checker = new AckedWritesChecker();
        var rows = new int[SeededRows];
        for (var i = 0; i < rows.Length; i++)
        {
            var email = Json.UniqueEmail("seed");
            var created = await FaultHost.PostAsync(client, new { name = "Seed " + i, email });
            Assert.Equal(HttpStatusCode.Created, created.Status);
            rows[i] = (int)JsonNode.Parse(created.Body)!["id"]!;
            checker.CreateAcknowledged(email, rows[i]);
        }

        var samples = new ConcurrentQueue<Sample>();
        var clock = Stopwatch.StartNew();
        var stuckCreates = 0;
        var loops = Enumerable.Range(0, Clients).Select(n => Task.Run(async () =>
        {
            var random = new Random(n);
            for (var round = 0; clock.Elapsed < RunFor; round++)
            {
                if (round % 2 == 0)
                {
                    // One logical create: the same key and body until a definitive answer or the end of the run.
                    var email = Json.UniqueEmail($"c{n}");
                    var key = Guid.NewGuid().ToString("N");
                    checker.CreateAttempted(email);
                    var done = false;
                    while (!done && clock.Elapsed < RunFor)
                    {
                        var at = clock.Elapsed;
                        var answer = await FaultHost.PostAsync(client, new { name = $"Client {n} {round}", email }, key);
                        samples.Enqueue(new Sample(Kind.Create, at, answer));
                        if (answer.Status == HttpStatusCode.Created)
                        {
                            checker.CreateAcknowledged(email, (int)JsonNode.Parse(answer.Body)!["id"]!);
                            done = true;
                        }
                        else if (answer.Status == HttpStatusCode.Conflict && answer.Body.Contains("duplicate-email", StringComparison.Ordinal))
                        {
                            done = true;
                        }
                        else
                        {
                            await Task.Delay(200);
                        }
                    }

                    if (!done)
                    {
                        Interlocked.Increment(ref stuckCreates);
                    }
                }
                else
                {
                    var id = rows[random.Next(rows.Length)];
                    var name = $"Client {n} round {round}";
                    var at = clock.Elapsed;
                    var answer = await FaultHost.PatchAsync(client, id, new { name });
                    samples.Enqueue(new Sample(Kind.Update, at, answer));
                    if (answer.Status == HttpStatusCode.OK)
                    {
                        var body = JsonNode.Parse(answer.Body)!;
                        checker.UpdateAcknowledged(id, (int)body["version"]!, (string)body["name"]!);
                    }
                    else
                    {
                        await Task.Delay(100);
                    }
                }
            }
        })).ToArray();

        await Task.Delay(KillAt);
        var killedAt = clock.Elapsed;
        await server.KillAsync();
        await Task.Delay(Downtime);
        await server.StartAgainAsync();
        var upAt = clock.Elapsed;
        var recovery = await FaultHost.WaitForOkAsync(client, $"/customers/{rows[0]}", TimeSpan.FromSeconds(30));
        var servingAt = clock.Elapsed;
        await Task.WhenAll(loops);

        var all = samples.ToArray();
        var window = all.Where(s => s.At >= killedAt - OperationTimeout && s.At <= servingAt).ToArray();
        var windowErrors = window.Count(s => s.Answer.Code >= 500);
        var afterErrors = all.Where(s => s.At > servingAt && s.Answer.Code >= 500).ToArray();
        output.WriteLine($"{all.Length} requests by {Clients} clients in {RunFor.TotalSeconds:F0} s; writer killed at {killedAt.TotalSeconds:F1} s, back at {upAt.TotalSeconds:F1} s (restart took {(upAt - killedAt - Downtime).TotalSeconds:F1} s)");
        output.WriteLine($"recovery: first GET 200 {recovery.TotalMilliseconds:F0} ms after the server was up");
        output.WriteLine($"fault window: {window.Length} requests, {windowErrors} answered 5xx; after recovery: {afterErrors.Length} 5xx");
        output.WriteLine("statuses: " + string.Join(", ", all.GroupBy(s => (s.Kind, s.Answer.Code)).OrderBy(g => g.Key).Select(g => $"{g.Key.Kind} {g.Key.Code}: {g.Count()}")));
        foreach (var kind in new[] { Kind.Create, Kind.Update })
        {
            var times = all.Where(s => s.Kind == kind).Select(s => s.Answer.Elapsed.TotalMilliseconds).Order().ToArray();
            output.WriteLine($"{kind}: p50 {times[times.Length / 2]:F0} ms, p99 {times[times.Length * 99 / 100]:F0} ms, max {times[^1]:F0} ms");
        }

        output.WriteLine($"acknowledged: {checker.AcknowledgedCreates} creates (of {checker.AttemptedCreates} attempted; {stuckCreates} without a definitive answer at the end), updates on {checker.UpdatedRows} rows");
        foreach (var late in afterErrors.Take(5))
        {
            output.WriteLine($"after recovery: {late.Kind} at {late.At.TotalSeconds:F1} s -> {late.Answer} {late.Answer.Body}");
        }

        var problems = await checker.CheckAsync(connectionString);
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));

        Assert.All(all, s => Assert.True(
            s.Answer.Code is 200 or 201 or 409 or 503,
            $"{s.Kind} at {s.At.TotalSeconds:F1} s answered {s.Answer}: {s.Answer.Body}"));
        Assert.All(all.Where(s => s.Answer.Code == 503), s => Assert.Equal(TimeSpan.FromSeconds(5), s.Answer.RetryAfter));

        // An update is one database operation; a keyed create is two (claim the key, then insert + record).
        Assert.All(all, s => Assert.True(
            s.Answer.Elapsed < (s.Kind == Kind.Update ? OperationTimeout : 2 * OperationTimeout) + Margin,
            $"{s.Kind} at {s.At.TotalSeconds:F1} s took {s.Answer.Elapsed}"));

        Assert.True(recovery < TimeSpan.FromSeconds(10), $"the service took {recovery} to serve again");
        Assert.Contains(all, s => s.At > servingAt && s.Kind == Kind.Create && s.Answer.Code == 201);
        Assert.Contains(all, s => s.At > servingAt && s.Kind == Kind.Update && s.Answer.Code == 200);
    }
}
