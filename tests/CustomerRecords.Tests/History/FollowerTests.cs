using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using CustomerRecords.Tests.Infrastructure;
using Xunit.Abstractions;

namespace CustomerRecords.Tests.History;

/// <summary>
/// A follower of <c>/changes</c> misses no event and sees none twice, while two instances of the service take
/// thousands of concurrent writes whose transactions commit out of seq order, some of them deliberately late.
/// </summary>
[Collection(MariaDbCollection.Name)]
public sealed class FollowerTests(MariaDbFixture mariaDb, ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(5000, 0)]
    [InlineData(2500, 4)]
    public async Task AFollowerAlternatingBetweenTwoInstancesGetsEveryEventExactlyOnce(int writes, int slowWriters)
    {
        var settings = CustomerApiFactory.MySqlSettings(await mariaDb.CreateDatabaseAsync());
        settings["Customers:CursorKey"] = "follower-test-cursor-key-0123456789abcdef01";
        settings["RateLimit:Enabled"] = "false";
        await using var first = new CustomerApiFactory(settings);
        await using var second = new CustomerApiFactory(new Dictionary<string, string?>(settings));
        var instances = new[] { first, second };
        var clients = new[] { first.CreateClient(), second.CreateClient() };
        using var deadline = new CancellationTokenSource(Bound);
        var clock = Stopwatch.StartNew();

        // Writers: 16 clients, 8 on each instance, creating customers and patching them until the writes are done.
        var done = 0;
        var failures = new ConcurrentQueue<string>();
        var writers = Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
        {
            using var client = instances[w % 2].CreateClient();
            int? id = null;
            while (Interlocked.Increment(ref done) <= writes && !deadline.IsCancellationRequested)
            {
                HttpResponseMessage response;
                if (id is null || Random.Shared.Next(3) == 0)
                {
                    response = await client.PostAsync("/customers", Json.Body(new { name = $"Writer {w}", email = Json.UniqueEmail("w") }));
                    if (response.StatusCode == HttpStatusCode.Created)
                    {
                        id = (int)(await response.ReadObjectAsync())["id"]!;
                    }
                }
                else
                {
                    response = await client.PatchAsync($"/customers/{id}", Json.Body(new { name = $"Writer {w} #{Random.Shared.Next()}" }, "application/merge-patch+json"));
                }

                if (!response.IsSuccessStatusCode)
                {
                    failures.Enqueue($"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                }
            }
        })).ToList();

        // Slow writers: a transaction that appends an event and commits 300 ms later, after many later seqs committed.
        var writing = true;
        var slowEvents = 0;
        var slow = Enumerable.Range(0, slowWriters).Select(s => Task.Run(async () =>
        {
            while (Volatile.Read(ref writing) && !deadline.IsCancellationRequested)
            {
                await using var connection = await EventRows.OpenAsync(first);
                await using var transaction = await connection.BeginTransactionAsync();
                await EventRows.InsertEventAsync(connection, transaction, EventRows.UnusedCustomerId(), "updated", 1);
                await Task.Delay(300);
                await transaction.CommitAsync();
                Interlocked.Increment(ref slowEvents);
            }
        })).ToList();

        // The follower: polls /changes with the last next, alternately on each instance, until the writers are done and it has caught up.
        var seen = new List<(long Seq, long Position)>();
        var follower = Task.Run(async () =>
        {
            string? cursor = null;
            var turn = 0;
            var writersDone = false;
            while (!deadline.IsCancellationRequested)
            {
                writersDone = writersDone || (writers.All(t => t.IsCompleted) && slow.All(t => t.IsCompleted));
                var response = await clients[turn++ % 2].GetAsync("/changes?limit=1000" + (cursor is null ? "" : "&after=" + cursor));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                var page = await response.ReadObjectAsync();
                var items = page["items"]!.AsArray();
                seen.AddRange(items.Select(i => ((long)i!["seq"]!, (long)i["position"]!)));
                cursor = (string)page["next"]!;
                if (items.Count == 0)
                {
                    // Caught up after the last write committed: done. (An empty page means nothing was waiting for a position.)
                    if (writersDone)
                    {
                        return;
                    }

                    await Task.Delay(20);
                }
            }
        });

        await Task.WhenAll(writers);
        Volatile.Write(ref writing, false);
        await Task.WhenAll(slow);
        await follower;
        Assert.False(deadline.IsCancellationRequested, $"not done within {Bound.TotalSeconds} s");
        Assert.True(failures.IsEmpty, $"{failures.Count} writes failed, e.g. {failures.FirstOrDefault()}");

        var stored = await EventRows.ScalarsAsync(first, "SELECT seq FROM customer_events");
        var seenSeqs = seen.Select(s => s.Seq).ToList();
        var missed = stored.Except(seenSeqs).Count();
        var duplicated = seenSeqs.Count - seenSeqs.Distinct().Count();
        var positions = seen.Select(s => s.Position).ToList();
        var increasing = positions.Zip(positions.Skip(1)).All(p => p.Second > p.First);

        // Events the feed gives after an event with a higher seq: each one committed after a later seq had (and was numbered).
        var outOfSeqOrder = seenSeqs.Zip(seenSeqs.Skip(1)).Count(p => p.Second < p.First);
        output.WriteLine($"writes: {Math.Min(writes, done)} via the API + {slowEvents} slow (300 ms) transactions; events stored: {stored.Count}; seen: {seen.Count}; missed: {missed}; duplicated: {duplicated}; positions increasing: {increasing}; given out of seq order: {outOfSeqOrder}; {clock.Elapsed.TotalSeconds:0.0} s");

        Assert.True(stored.Count >= writes + slowEvents, $"expected at least {writes + slowEvents} events, found {stored.Count}");
        if (slowWriters > 0)
        {
            Assert.True(slowEvents > 0, "no slow transaction committed");
            Assert.True(outOfSeqOrder > 0, "no event committed after a later seq: the test did not exercise out-of-order commits");
        }

        Assert.Equal(0, missed);
        Assert.Equal(0, duplicated);
        Assert.Empty(seenSeqs.Except(stored));
        Assert.True(increasing, "positions strictly increase");
        foreach (var client in clients)
        {
            client.Dispose();
        }
    }
}
