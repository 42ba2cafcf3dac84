using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using CustomerRecords.Tests.Infrastructure;
using Xunit.Abstractions;

namespace CustomerRecords.Tests.Data;

/// <summary>
/// <c>Database:OperationTimeout</c> is a promise to the client: a request that needs a hung database
/// (SIGSTOP: the kernel accepts connections, nothing answers) gets 503 + Retry-After within the
/// timeout plus a small margin, however the driver's own cancellation behaves (KILL QUERY on a second
/// connection blocks on a hung server too). Reads and writes, pooled and new connections, with and
/// without the cache in front.
/// </summary>
[Trait("Category", "Faults")]
[Collection(FaultsCollection.Name)]
public sealed class DeadlineTests(ITestOutputHelper output)
{
    private static readonly TimeSpan OperationTimeout = TimeSpan.FromSeconds(2);

    // The promise: the deadline plus half a second for the error handler and a loaded machine.
    private static readonly TimeSpan Bound = OperationTimeout + TimeSpan.FromMilliseconds(500);

    private static readonly TimeSpan PausedFor = TimeSpan.FromSeconds(9);

    // Readiness has its own deadline: the database check's 3 s registration timeout (the ALB waits 5 s).
    private static readonly TimeSpan HealthBound = TimeSpan.FromSeconds(3) + TimeSpan.FromMilliseconds(500);

    private const int Loops = 8;

    private static int s_absentId = 800_000;

    [Theory]
    [InlineData("None")]
    [InlineData("Memory")]
    public async Task EveryRequestThatNeedsAHungDatabaseGets503WithinTheOperationTimeout(string cacheMode)
    {
        await using var server = await MariaDbServer.StartAsync();

        // The service's own pool defaults (Connection Timeout 3 s, Default Command Timeout 5 s,
        // Cancellation Timeout 2 s) all exceed the deadline: only the deadline can bound a request.
        var settings = FaultHost.Settings(await server.CreateDatabaseAsync(), operationTimeout: OperationTimeout);
        settings["Cache:Mode"] = cacheMode;

        // Readiness probes on every call here: what is tested is the probe's own deadline against a hung server.
        settings["Health:DatabaseProbeInterval"] = "00:00:00";
        await using var factory = new CustomerApiFactory(settings);
        using var client = FaultHost.Client(factory);

        var created = await FaultHost.PostAsync(client, new { name = "Before", email = Json.UniqueEmail("deadline") });
        Assert.Equal(HttpStatusCode.Created, created.Status);
        var id = (int)JsonNode.Parse(created.Body)!["id"]!;

        // A few pooled connections: some requests below meet one, the rest must open a new one.
        await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => FaultHost.GetAsync(client, "/customers?limit=5")));

        server.Pause();
        var answers = new ConcurrentQueue<(string What, Timed Answer)>();
        var clock = Stopwatch.StartNew();
        Timed ready;
        try
        {
            // Readiness answers from the latest database outcome (Health:DatabaseProbeInterval): once a request has
            // found the database hung, it must say so — and within its own bound.
            var probe = Task.Run(async () =>
            {
                while (answers.IsEmpty && clock.Elapsed < PausedFor - HealthBound)
                {
                    await Task.Delay(50);
                }

                return await FaultHost.GetAsync(client, "/health/ready");
            });
            var loops = Enumerable.Range(0, Loops).Select(n => Task.Run(async () =>
            {
                // Stop early enough that the slowest allowed answer still arrives before the server resumes.
                while (clock.Elapsed < PausedFor - Bound - TimeSpan.FromSeconds(1))
                {
                    var (what, answer) = n switch
                    {
                        0 => ("GET one (miss)", await FaultHost.GetAsync(client, $"/customers/{Interlocked.Increment(ref s_absentId)}")),
                        1 => ("GET list", await FaultHost.GetAsync(client, "/customers?limit=5")),
                        2 => ("GET /read (miss)", await FaultHost.GetAsync(client, $"/read/{Interlocked.Increment(ref s_absentId)}")),
                        3 => ("POST", await FaultHost.PostAsync(client, new { name = "During", email = Json.UniqueEmail("deadline") })),
                        4 => ("POST once", await FaultHost.PostAsync(client, new { name = "Once", email = Json.UniqueEmail("deadline") }, Guid.NewGuid().ToString("N"))),
                        5 or 6 => ("PATCH", await FaultHost.PatchAsync(client, id, new { name = "During " + n })),
                        _ => ("GET list page 2", await FaultHost.GetAsync(client, "/customers?limit=2")),
                    };
                    answers.Enqueue((what, answer));
                }
            })).ToArray();
            await Task.WhenAll(loops);
            ready = await probe;
            var remaining = PausedFor - clock.Elapsed;
            if (remaining > TimeSpan.Zero)
            {
                await Task.Delay(remaining);
            }
        }
        finally
        {
            server.Resume();
        }

        var resumedAt = Stopwatch.StartNew();
        var readBack = await FaultHost.WaitForOkAsync(client, "/customers?limit=5", TimeSpan.FromSeconds(30));
        var write = await FaultHost.PatchAsync(client, id, new { name = "After" });
        var writeBack = resumedAt.Elapsed;
        var after = await Task.WhenAll(Enumerable.Range(0, Loops).Select(n => n % 2 == 0
            ? FaultHost.GetAsync(client, $"/customers/{id}")
            : FaultHost.PostAsync(client, new { name = "After", email = Json.UniqueEmail("deadline") })));

        foreach (var group in answers.GroupBy(a => a.What).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var times = group.Select(a => a.Answer.Elapsed.TotalMilliseconds).Order().ToArray();
            output.WriteLine($"Cache:Mode={cacheMode} paused: {group.Key} x{times.Length}: statuses {string.Join(",", group.Select(a => a.Answer.Code).Distinct())}, min {times[0]:F0} ms, max {times[^1]:F0} ms");
        }

        var slowest = answers.MaxBy(a => a.Answer.Elapsed);
        output.WriteLine($"Cache:Mode={cacheMode} max latency of {answers.Count} answers while paused: {slowest.Answer.Elapsed.TotalMilliseconds:F0} ms ({slowest.What}), bound {Bound.TotalMilliseconds:F0} ms");
        output.WriteLine($"Cache:Mode={cacheMode} paused: /health/ready {ready}, bound {HealthBound.TotalMilliseconds:F0} ms");
        output.WriteLine($"resumed: list 200 after {readBack.TotalMilliseconds:F0} ms, PATCH {write} ({writeBack.TotalMilliseconds:F0} ms after resume); then {string.Join(",", after.Select(a => a.Code))}");

        Assert.True(answers.Count >= Loops, $"only {answers.Count} answers while paused");
        Assert.All(answers, a => Assert.True(a.Answer.Status == HttpStatusCode.ServiceUnavailable, $"{a.What} answered {a.Answer} while the database hung"));
        Assert.All(answers, a => Assert.True(a.Answer.RetryAfter == TimeSpan.FromSeconds(5), $"{a.What} answered without Retry-After: 5"));
        Assert.All(answers, a => Assert.True(a.Answer.Elapsed <= Bound, $"{a.What} took {a.Answer.Elapsed.TotalMilliseconds:F0} ms against a hung database (bound {Bound.TotalMilliseconds:F0} ms)"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.Status);
        Assert.True(ready.Elapsed <= HealthBound, $"/health/ready took {ready.Elapsed.TotalMilliseconds:F0} ms against a hung database (bound {HealthBound.TotalMilliseconds:F0} ms)");
        Assert.Equal(HttpStatusCode.OK, write.Status);
        Assert.True(writeBack < TimeSpan.FromSeconds(10), $"the service took {writeBack} to write again after the server resumed");
        Assert.All(after, a => Assert.True(a.Status is HttpStatusCode.OK or HttpStatusCode.Created, $"after resume: {a}"));
    }
}
