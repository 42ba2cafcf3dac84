using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.Caching;

/// <summary>What one by-id read answered.</summary>
/// <param name="Status">The response status.</param>
/// <param name="Cache">The <c>X-Cache</c> header (<c>hit</c>, <c>miss</c>), null when absent.</param>
/// <param name="Email">The customer's email when found.</param>
/// <param name="Version">The row version when found (not on the original app's route).</param>
/// <param name="ETag">The response's ETag.</param>
/// <param name="Elapsed">Time from sending the request to reading the whole response, in process.</param>
public sealed record CachedRead(HttpStatusCode Status, string? Cache, string? Email, int? Version, EntityTagHeaderValue? ETag, TimeSpan Elapsed);

/// <summary>
/// One service instance: its own host (own DI container, so its own FusionCache memory, Redis
/// connection and backplane subscription), a client, and its cache counters. Several built from
/// the same settings behave like instances behind a load balancer.
/// </summary>
public sealed class CacheInstance : IAsyncDisposable
{
    private CacheInstance(IReadOnlyDictionary<string, string?> settings)
    {
        Factory = new CustomerApiFactory(settings);
        Client = Factory.CreateClient(); // builds and starts the host: migrations have run when this returns
        Counters = new CacheCounters(Factory.Services);
    }

    public CustomerApiFactory Factory { get; }

    public HttpClient Client { get; }

    public CacheCounters Counters { get; }

    /// <summary>
    /// Settings of an instance in <c>Cache:Mode=Redis</c> over MariaDB. The key prefix is new per
    /// call: tests sharing one Redis never see each other's entries or backplane messages; give
    /// every instance of one test the same dictionary. Rate limiting is off: the concurrency tests
    /// send more than its per-client budget from one (test) client.
    /// </summary>
    public static Dictionary<string, string?> RedisSettings(string customers, string redis, params (string Key, string Value)[] overrides)
    {
        var settings = CustomerApiFactory.MySqlSettings(customers);
        settings["Cache:Mode"] = "Redis";
        settings["ConnectionStrings:Redis"] = redis;
        settings["Cache:KeyPrefix"] = "t" + Guid.NewGuid().ToString("N");
        settings["RateLimit:Enabled"] = "false";
        foreach (var (key, value) in overrides)
        {
            settings[key] = value;
        }

        return settings;
    }

    public static CacheInstance Start(IReadOnlyDictionary<string, string?> settings) => new(settings);

    /// <summary>
    /// The service's cache key of a customer (README "Caching": <c>{prefix}:v{schema}:customer:{id}</c>).
    /// In Redis, FusionCache puts its wire-format version in front (<c>v2:</c>).
    /// </summary>
    public string RedisKey(int id) => string.Create(CultureInfo.InvariantCulture, $"{Factory.Settings["Cache:KeyPrefix"]}:v{CustomerRecords.Api.Customers.CustomerCache.SchemaVersion}:customer:{id}");

    public Task<CachedRead> ReadAsync(int id, EntityTagHeaderValue? ifNoneMatch = null) =>
        ReadAsync(string.Create(CultureInfo.InvariantCulture, $"/customers/{id}"), ifNoneMatch);

    /// <summary>The original app's read route: <c>{"customer": [id, name, email, phone, created_at, updated_at]}</c>, no version.</summary>
    public Task<CachedRead> ReadOriginalAsync(int id) => ReadAsync(string.Create(CultureInfo.InvariantCulture, $"/read/{id}"), null);

    public async Task<JsonObject> CreateAsync(string? email = null)
    {
        var response = await Client.PostAsync("/customers", Json.Body(new { name = "Cached Customer", email = email ?? Json.UniqueEmail("cache") }));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.ReadObjectAsync();
    }

    public async Task<HttpResponseMessage> PatchEmailAsync(int id, string email) =>
        await Client.PatchAsync(string.Create(CultureInfo.InvariantCulture, $"/customers/{id}"), Json.Body(new { email }, "application/merge-patch+json"));

    public async ValueTask DisposeAsync()
    {
        Counters.Dispose();
        Client.Dispose();
        await Factory.DisposeAsync();
    }

    private async Task<CachedRead> ReadAsync(string path, EntityTagHeaderValue? ifNoneMatch)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (ifNoneMatch is not null)
        {
            request.Headers.IfNoneMatch.Add(ifNoneMatch);
        }

        var clock = Stopwatch.StartNew();
        using var response = await Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        var elapsed = clock.Elapsed;

        var cache = response.Headers.TryGetValues("X-Cache", out var values) ? string.Join(",", values) : null;
        string? email = null;
        int? version = null;
        if (response.StatusCode == HttpStatusCode.OK)
        {
            var json = JsonNode.Parse(body)!.AsObject();
            if (json["customer"] is JsonArray row)
            {
                email = (string?)row[2];
            }
            else
            {
                email = (string?)json["email"];
                version = (int?)json["version"];
            }
        }

        return new CachedRead(response.StatusCode, cache, email, version, response.Headers.ETag, elapsed);
    }
}
