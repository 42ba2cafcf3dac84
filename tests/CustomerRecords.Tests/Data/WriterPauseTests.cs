using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using CustomerRecords.Tests.Infrastructure;
using Xunit.Abstractions;

namespace CustomerRecords.Tests.Data;

/// <summary>
/// The writer hangs (SIGSTOP: sockets open, nothing answered) for longer than the command timeout.
/// What must hold: requests fail fast with 503 + Retry-After instead of hanging, and the service
/// answers again within seconds of the server resuming.
/// </summary>
[Trait("Category", "Faults")]
[Collection(FaultsCollection.Name)]
public sealed class WriterPauseTests(ITestOutputHelper output)
{
    private static readonly TimeSpan OperationTimeout = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan PausedFor = TimeSpan.FromSeconds(9);

    // OperationTimeout plus room for a loaded shared machine.
    private static readonly TimeSpan Bound = OperationTimeout + TimeSpan.FromSeconds(3);

    [Fact]
    public async Task RequestsToAHungWriterFailFastWith503AndTheServiceRecoversOnResume()
    {
        await using var server = await MariaDbServer.StartAsync();
        var connectionString = await server.CreateDatabaseAsync() + ";Default Command Timeout=2;Connection Timeout=2";
        await using var factory = new CustomerApiFactory(FaultHost.Settings(connectionString, operationTimeout: OperationTimeout));
        using var client = FaultHost.Client(factory);

        var created = await FaultHost.PostAsync(client, new { name = "Before", email = Json.UniqueEmail("pause") });
        Assert.Equal(HttpStatusCode.Created, created.Status);
        var id = (int)JsonNode.Parse(created.Body)!["id"]!;

        // Warm the pool so some requests meet established connections and others open new ones.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => FaultHost.GetAsync(client, $"/customers/{id}")));

        server.Pause();
        var answers = new ConcurrentQueue<(string What, Timed Answer)>();
        var clock = Stopwatch.StartNew();
        try
        {
            var loops = Enumerable.Range(0, 6).Select(n => Task.Run(async () =>
            {
                // Leave room for the slowest request to finish before the server resumes.
                while (clock.Elapsed < PausedFor - Bound)
                {
                    var (what, answer) = n switch
                    {
                        0 or 1 => ("GET one", await FaultHost.GetAsync(client, $"/customers/{id}")),
                        2 => ("GET list", await FaultHost.GetAsync(client, "/customers")),
                        3 or 4 => ("PATCH", await FaultHost.PatchAsync(client, id, new { name = "During " + n })),
                        _ => ("POST", await FaultHost.PostAsync(client, new { name = "During", email = Json.UniqueEmail("pause") })),
                    };
                    answers.Enqueue((what, answer));
                }
            })).ToArray();
            await Task.WhenAll(loops);
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
        var readBack = await FaultHost.WaitForOkAsync(client, $"/customers/{id}", TimeSpan.FromSeconds(30));
        var write = await FaultHost.PatchAsync(client, id, new { name = "After" });
        var writeBack = resumedAt.Elapsed;

        foreach (var group in answers.GroupBy(a => a.What))
        {
            var times = group.Select(a => a.Answer.Elapsed.TotalMilliseconds).Order().ToArray();
            output.WriteLine($"paused: {group.Key} x{times.Length}: statuses {string.Join(",", group.Select(a => a.Answer.Code).Distinct())}, min {times[0]:F0} ms, max {times[^1]:F0} ms");
        }

        output.WriteLine($"resumed: GET 200 after {readBack.TotalMilliseconds:F0} ms, PATCH {write} ({writeBack.TotalMilliseconds:F0} ms after resume)");

        Assert.NotEmpty(answers);
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.ServiceUnavailable, a.Answer.Status));
        Assert.All(answers, a => Assert.Equal(TimeSpan.FromSeconds(5), a.Answer.RetryAfter));
        Assert.All(answers, a => Assert.True(a.Answer.Elapsed < Bound, $"{a.What} took {a.Answer.Elapsed} against a hung writer"));
        Assert.Equal(HttpStatusCode.OK, write.Status);
        Assert.True(writeBack < TimeSpan.FromSeconds(10), $"the service took {writeBack} to write again after the server resumed");
    }
}
