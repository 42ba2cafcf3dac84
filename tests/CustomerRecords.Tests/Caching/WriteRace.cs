using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.Caching;

/// <summary>
/// Concurrent writes and reads of one customer on two instances: on each, one writer through the current route
/// (PATCH), one through the original app's (<c>PUT /update/{id}</c>) and two readers, for <c>duration</c>.
/// </summary>
public static class WriteRace
{
    /// <summary>Runs the race; fails the test if any write or read was not answered 200. Returns how many of each were made.</summary>
    public static async Task<(int Writes, int Reads)> RunAsync(CacheInstance a, CacheInstance b, int id, TimeSpan duration)
    {
        var failures = new ConcurrentQueue<string>();
        int writes = 0, reads = 0;
        var clock = Stopwatch.StartNew();

        async Task WriteAsync(CacheInstance app, bool originalRoute)
        {
            while (clock.Elapsed < duration)
            {
                var email = Json.UniqueEmail("race");
                using var response = originalRoute
                    ? await app.Client.PutAsync($"/update/{id}", Json.Body(new { email }))
                    : await app.PatchEmailAsync(id, email);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    failures.Enqueue($"write {response.StatusCode}");
                }

                Interlocked.Increment(ref writes);
            }
        }

        async Task ReadAsync(CacheInstance app)
        {
            while (clock.Elapsed < duration)
            {
                var read = await app.ReadAsync(id);
                if (read.Status != HttpStatusCode.OK)
                {
                    failures.Enqueue($"read {read.Status}");
                }

                Interlocked.Increment(ref reads);
            }
        }

        await Task.WhenAll(
            Task.Run(() => WriteAsync(a, originalRoute: false)),
            Task.Run(() => WriteAsync(a, originalRoute: true)),
            Task.Run(() => WriteAsync(b, originalRoute: false)),
            Task.Run(() => WriteAsync(b, originalRoute: true)),
            Task.Run(() => ReadAsync(a)),
            Task.Run(() => ReadAsync(a)),
            Task.Run(() => ReadAsync(b)),
            Task.Run(() => ReadAsync(b)));
        Assert.Empty(failures);
        return (writes, reads);
    }
}
