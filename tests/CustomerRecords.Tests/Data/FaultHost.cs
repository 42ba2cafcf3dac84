using System.Diagnostics;
using System.Net;
using CustomerRecords.Tests.Infrastructure;
using MySqlConnector;

namespace CustomerRecords.Tests.Data;

/// <summary>Fault tests break servers; they run one at a time so their timings are their own.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "xunit names collection definitions after the collection.")]
public sealed class FaultsCollection
{
    public const string Name = "Faults";
}

/// <summary>What the fault tests share: settings for a service that reads from the database, and timed requests.</summary>
internal static class FaultHost
{
    /// <summary>
    /// A MySQL-backed service with no cache (every read reaches the database), no sample rows and no rate limit.
    /// <c>Database:ResumeTimeout</c> is 0 unless <paramref name="resumeTimeout"/> says otherwise: most fault tests hold
    /// the service to its fail-fast promise, which a wait for a resuming database would stretch for new connections.
    /// </summary>
    public static Dictionary<string, string?> Settings(string writer, string? reader = null, TimeSpan? operationTimeout = null, TimeSpan? resumeTimeout = null)
    {
        var settings = CustomerApiFactory.MySqlSettings(writer);
        settings["ConnectionStrings:CustomersReadOnly"] = reader;
        settings["Cache:Mode"] = "None";
        settings["Database:SeedSampleData"] = "false";
        settings["RateLimit:Enabled"] = "false";
        settings["Database:ResumeTimeout"] = (resumeTimeout ?? TimeSpan.Zero).ToString("c", System.Globalization.CultureInfo.InvariantCulture);
        if (operationTimeout is { } timeout)
        {
            settings["Database:OperationTimeout"] = timeout.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
        }

        return settings;
    }

    /// <summary>A client whose own timeout is far past any bound we assert, so a hang shows as a slow answer, not a stuck test.</summary>
    public static HttpClient Client(CustomerApiFactory factory)
    {
        var client = factory.CreateClient();
        client.Timeout = TimeSpan.FromSeconds(60);
        return client;
    }

    /// <summary>Sends and times a request; a transport failure becomes status 0.</summary>
    public static async Task<Timed> SendAsync(HttpClient client, Func<HttpRequestMessage> request)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            using var message = request();
            using var response = await client.SendAsync(message);
            var body = await response.Content.ReadAsStringAsync();
            return new Timed(response.StatusCode, clock.Elapsed, body, response.Headers.RetryAfter?.Delta);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return new Timed(0, clock.Elapsed, e.GetType().Name, null);
        }
    }

    public static Task<Timed> GetAsync(HttpClient client, string path) =>
        SendAsync(client, () => new HttpRequestMessage(HttpMethod.Get, path));

    public static Task<Timed> PatchAsync(HttpClient client, int id, object body) =>
        SendAsync(client, () => new HttpRequestMessage(HttpMethod.Patch, $"/customers/{id}") { Content = Json.Body(body, "application/merge-patch+json") });

    public static Task<Timed> PostAsync(HttpClient client, object body, string? idempotencyKey = null) =>
        SendAsync(client, () =>
        {
            var message = new HttpRequestMessage(HttpMethod.Post, "/customers") { Content = Json.Body(body) };
            if (idempotencyKey is not null)
            {
                message.Headers.Add("Idempotency-Key", idempotencyKey);
            }

            return message;
        });

    /// <summary>Polls <paramref name="path"/> until it answers 200; returns how long that took.</summary>
    public static async Task<TimeSpan> WaitForOkAsync(HttpClient client, string path, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            if ((await GetAsync(client, path)).Status == HttpStatusCode.OK)
            {
                return clock.Elapsed;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"GET {path} did not answer 200 within {limit}.");
    }

    /// <summary>A short-lived root-free connection with the service's own credentials, pooling off (servers get killed).</summary>
    public static MySqlConnection Open(string connectionString)
    {
        var connection = new MySqlConnection(new MySqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        connection.Open();
        return connection;
    }
}

/// <summary>One answered (or failed) request.</summary>
internal readonly record struct Timed(HttpStatusCode Status, TimeSpan Elapsed, string Body, TimeSpan? RetryAfter)
{
    public int Code => (int)Status;

    public override string ToString() => $"{Code} in {Elapsed.TotalMilliseconds:F0} ms";
}
