using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CustomerRecords.Api.Aws;
using CustomerRecords.Api.Caching;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace CustomerRecords.Tests.Caching;

/// <summary>
/// ElastiCache IAM authentication against a real redis-server over TLS: an ACL user whose password is the token the
/// service presents (fixed credentials and a settable clock make it computable here). When Redis refuses the token
/// the API keeps answering from memory and the database; after the clock passes the token's lifetime the service
/// presents a new token on its next reconnection, and Redis accepting only that one proves the renewal.
/// </summary>
public sealed class RedisIamRenewalTests(ITestOutputHelper output)
{
    private const string User = "app-user";
    private const string Group = "customers-cache";
    private const string Region = "eu-west-1";
    private const string Admin = "test-admin";
    private const string AdminPassword = "test-admin-password";
    private static readonly AwsCredentials Credentials = new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    private static readonly TimeSpan ReconnectBound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task AReconnectionAfterTheTokensLifetimePresentsANewTokenAndARefusedTokenCostsNoRequest()
    {
        var directory = TestDirectory.Create("redis-tls");
        var ca = WriteCertificates(directory);
        var tlsPort = FreePort.Get();
        await using var redis = await RedisServer.StartAsync(string.Create(CultureInfo.InvariantCulture, $"""
            tls-port {tlsPort}
            tls-cert-file {Path.Combine(directory, "server.pem")}
            tls-key-file {Path.Combine(directory, "server.key")}
            tls-ca-cert-file {ca}
            tls-auth-clients no
            """));
        // As on ElastiCache, no connection is let in without a user and its password: the test has its own admin user.
        await RedisClusterServer.CliAsync(redis, ["acl", "setuser", Admin, "on", ">" + AdminPassword, "~*", "&*", "+@all"]);
        await RedisClusterServer.CliAsync(redis, ["acl", "setuser", "default", "off"]);
        var clock = new SettableClock(new DateTimeOffset(2026, 1, 15, 9, 0, 0, TimeSpan.Zero));
        var first = ElastiCacheAuthToken.Generate(Group, User, Region, Credentials, clock.GetUtcNow());
        await AclAsync(redis, first);

        using var temp = new TempDirectory();
        var settings = CustomerApiFactory.SqliteSettings(temp.Path);
        settings["RateLimit:Enabled"] = "false";
        settings["Cache:Mode"] = "Redis";
        settings["Cache:KeyPrefix"] = "t" + Guid.NewGuid().ToString("N");
        settings["ConnectionStrings:Redis"] = string.Create(CultureInfo.InvariantCulture, $"localhost:{tlsPort},ssl=true,sslHost=localhost");
        settings["Cache:RedisCaFile"] = ca;
        settings["Cache:IamAuthentication:Enabled"] = "true";
        settings["Cache:IamAuthentication:UserId"] = User;
        settings["Cache:IamAuthentication:ReplicationGroupId"] = Group;
        settings["Cache:IamAuthentication:Region"] = Region;
        settings["Cache:IamAuthentication:RefreshInterval"] = "00:00:01";
        using var credentials = new AwsCredentialsProvider(
            new RefusingHandler(),
            name => name switch { "AWS_ACCESS_KEY_ID" => Credentials.AccessKeyId, "AWS_SECRET_ACCESS_KEY" => Credentials.SecretAccessKey, _ => null },
            clock);
        await using var factory = new CustomerApiFactory(settings, host => host.ConfigureTestServices(services =>
        {
            services.AddSingleton<TimeProvider>(clock);
            services.AddSingleton(credentials);
        }));
        using var client = factory.CreateClient();

        // The first token: the service authenticates as the IAM user over TLS and caches through Redis.
        await Eventually.WithinAsync(ReconnectBound, "the service authenticates with the first token", async () => await CacheHealthAsync(client) == "Healthy", TimeSpan.FromMilliseconds(100));
        Assert.Contains($"user={User}", await CliAsync(redis, "client", "list"), StringComparison.Ordinal);
        Assert.DoesNotContain("user=default", await CliAsync(redis, "client", "list"), StringComparison.Ordinal);
        var id = await CreateAsync(client);
        Assert.Equal("1", (await CliAsync(redis, "exists", $"v2:{settings["Cache:KeyPrefix"]}:v{CustomerRecords.Api.Customers.CustomerCache.SchemaVersion}:customer:{id}")).Trim());

        // Redis refuses the token (as ElastiCache does once it expired and the connection is re-established): the API
        // still answers every request, from memory and the database, and reports the cache degraded.
        await AclAsync(redis, "a-token-the-service-cannot-have");
        await CliAsync(redis, "client", "kill", "user", User);
        await Eventually.WithinAsync(ReconnectBound, "the cache is reported degraded", async () => await CacheHealthAsync(client) == "Degraded", TimeSpan.FromMilliseconds(100));
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var read = await client.GetAsync($"/customers/{id}");
            statuses.Add(read.StatusCode);
            using var patch = await client.PatchAsync($"/customers/{id}", Json.Body(new { name = $"Renewal {i}" }, "application/merge-patch+json"));
            statuses.Add(patch.StatusCode);
        }

        var created = await CreateAsync(client);
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        var refusals = await CliAsync(redis, "acl", "log");
        Assert.Contains(User, refusals, StringComparison.Ordinal); // Redis did refuse the service's AUTH

        // Past the token's lifetime: the next token is signed at the new time. Redis accepts only that one now.
        clock.Advance(ElastiCacheAuthToken.Lifetime);
        var second = ElastiCacheAuthToken.Generate(Group, User, Region, Credentials, clock.GetUtcNow());
        Assert.NotEqual(first, second);
        await AclAsync(redis, second);
        var took = await Eventually.WithinAsync(ReconnectBound, "the service reconnects with the renewed token", async () => await CacheHealthAsync(client) == "Healthy", TimeSpan.FromMilliseconds(100));
        Assert.Contains($"user={User}", await CliAsync(redis, "client", "list"), StringComparison.Ordinal);

        // And the cache is in use again: a write reaches Redis (written through, or re-set by the recovery that follows
        // a fault, README: within seconds of Redis answering again).
        // The recovery waits out FusionCache's circuit breaker (opened by the refusals) on the service's clock, which this
        // test moved on by the token's lifetime, while the breaker itself runs on real time: without this real-time wait
        // the recovery has already run and a write inside the breaker's last seconds skips Redis with nothing to re-set
        // it later — an artefact of the settable clock; with one clock the recovery runs after the breaker closes.
        await Task.Delay(CachingExtensions.CircuitBreakerDuration + TimeSpan.FromMilliseconds(500));
        using (var patch = await client.PatchAsync($"/customers/{created}", Json.Body(new { name = "Renewed" }, "application/merge-patch+json")))
        {
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        }

        var key = $"v2:{settings["Cache:KeyPrefix"]}:v{CustomerRecords.Api.Customers.CustomerCache.SchemaVersion}:customer:{created}";
        var cached = await Eventually.WithinAsync(TimeSpan.FromSeconds(10), "the write after the renewal is in Redis",
            async () => (await CliAsync(redis, "hget", key, "data")).Contains("Renewed", StringComparison.Ordinal), TimeSpan.FromMilliseconds(100));
        output.WriteLine($"refused token: {statuses.Count} requests, all 200; renewed token accepted {took.TotalMilliseconds:0} ms after Redis was given it; " +
            $"the next write in Redis {cached.TotalMilliseconds:0} ms after it was acknowledged");
    }

    private static async Task<int> CreateAsync(HttpClient client)
    {
        using var response = await client.PostAsync("/customers", Json.Body(new { name = "Iam Customer", email = Json.UniqueEmail("iam") }));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (int)(await response.ReadObjectAsync())["id"]!;
    }

    private static async Task<string?> CacheHealthAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (string?)(await response.ReadObjectAsync())["checks"]?["cache"]?["status"];
    }

    /// <summary>The IAM user accepts exactly <paramref name="password"/> (the default user stays for the test's own commands).</summary>
    private static Task<string> AclAsync(RedisServer redis, string password) =>
        CliAsync(redis, "acl", "setuser", User, "on", "resetpass", ">" + password, "~*", "&*", "+@all");

    private static Task<string> CliAsync(RedisServer redis, params string[] arguments) =>
        RedisClusterServer.CliAsync(redis, ["--user", Admin, "--pass", AdminPassword, "--no-auth-warning", .. arguments]);

    /// <summary>A CA and a server certificate for localhost signed by it, as PEM files; returns the CA's path.</summary>
    private static string WriteCertificates(string directory)
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=CustomerRecords test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var caCertificate = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));

        using var serverKey = RSA.Create(2048);
        var serverRequest = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var serverCertificate = serverRequest.Create(caCertificate, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(12), RandomNumberGenerator.GetBytes(8));

        var ca = Path.Combine(directory, "ca.pem");
        File.WriteAllText(ca, caCertificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(directory, "server.pem"), serverCertificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(directory, "server.key"), serverKey.ExportPkcs8PrivateKeyPem());
        return ca;
    }

    /// <summary>Wall-clock time the test sets (the token's signing time); timers stay real.</summary>
    private sealed class SettableClock(DateTimeOffset start) : TimeProvider
    {
        private long _ticks = start.UtcTicks;

        public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }

    /// <summary>The instance metadata service must never be asked: the credentials come from the environment.</summary>
    private sealed class RefusingHandler : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("IMDS was asked for credentials.");
    }
}
