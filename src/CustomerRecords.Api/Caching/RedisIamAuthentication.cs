using CustomerRecords.Api.Aws;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Api.Caching;

/// <summary>ElastiCache IAM authentication for Redis (section <c>Cache:IamAuthentication</c>).</summary>
public sealed class RedisIamAuthenticationOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Cache:IamAuthentication";

    /// <summary>Authenticate to ElastiCache with short-lived IAM tokens instead of a password. Default false. Needs TLS (<c>ssl=true</c>).</summary>
    public bool Enabled { get; set; }

    /// <summary>The ElastiCache user id (IAM-enabled users have user name = user id), sent as the Redis user name.</summary>
    public string? UserId { get; set; }

    /// <summary>The replication group id (or cache name) the token is signed for, lower case, e.g. <c>customer-records-cache</c>.</summary>
    public string? ReplicationGroupId { get; set; }

    /// <summary>AWS region of the cache. Default: <c>AWS_REGION</c>, then <c>AWS_DEFAULT_REGION</c>.</summary>
    public string? Region { get; set; }

    /// <summary>How often a new token replaces the one (re)connections use; below the 15-minute token lifetime. Default 10 minutes.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromMinutes(10);

    internal string? ResolveRegion(Func<string, string?> environment) =>
        Region is { Length: > 0 } region ? region
        : environment("AWS_REGION") is { Length: > 0 } fromEnv ? fromEnv
        : environment("AWS_DEFAULT_REGION") is { Length: > 0 } fromDefault ? fromDefault : null;
}

internal sealed class RedisIamAuthenticationOptionsValidator(IConfiguration configuration) : IValidateOptions<RedisIamAuthenticationOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisIamAuthenticationOptions options)
    {
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.UserId))
        {
            failures.Add("Cache:IamAuthentication:UserId is required when Cache:IamAuthentication:Enabled=true (the ElastiCache user id).");
        }

        if (string.IsNullOrWhiteSpace(options.ReplicationGroupId))
        {
            failures.Add("Cache:IamAuthentication:ReplicationGroupId is required when Cache:IamAuthentication:Enabled=true (the replication group id or cache name).");
        }

        if (options.ResolveRegion(Environment.GetEnvironmentVariable) is null)
        {
            failures.Add("Cache:IamAuthentication:Region is required when Cache:IamAuthentication:Enabled=true (or set AWS_REGION).");
        }

        if (options.RefreshInterval <= TimeSpan.Zero || options.RefreshInterval >= ElastiCacheAuthToken.Lifetime)
        {
            failures.Add("Cache:IamAuthentication:RefreshInterval must be positive and shorter than the 15-minute token lifetime.");
        }

        // ElastiCache accepts IAM tokens only over TLS.
        var redis = configuration.GetConnectionString("Redis");
        if (!string.IsNullOrWhiteSpace(redis) && !redis.Contains("ssl=true", StringComparison.OrdinalIgnoreCase))
        {
            failures.Add("Cache:IamAuthentication needs TLS: add ssl=true to ConnectionStrings:Redis (ElastiCache in-transit encryption).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>
/// ElastiCache IAM authentication tokens: <c>https://{replication group}/?Action=connect&amp;User={user id}</c> presigned with
/// SigV4 for service <c>elasticache</c>, valid 15 minutes, without the <c>https://</c> (AWS's "Authenticating with IAM" guide).
/// </summary>
public static class ElastiCacheAuthToken
{
    /// <summary>How long ElastiCache accepts a token for new connections.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(15);

    public static string Generate(string replicationGroupId, string userId, string region, AwsCredentials credentials, DateTimeOffset time)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(replicationGroupId);
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentException.ThrowIfNullOrWhiteSpace(region);
        var query = AwsSigV4.PresignQuery("GET", replicationGroupId, "/",
            [new("Action", "connect"), new("User", userId)],
            credentials, region, "elasticache", time, Lifetime);
        return $"{replicationGroupId}/?{query}";
    }
}

/// <summary>Makes the token a (re)connection authenticates with, from the environment's or the instance profile's AWS credentials.</summary>
internal sealed class RedisIamTokens(RedisIamAuthenticationOptions options, AwsCredentialsProvider credentials, TimeProvider time)
{
    public string UserId => options.UserId!;

    public TimeSpan RefreshInterval => options.RefreshInterval;

    public async Task<string> NewTokenAsync(CancellationToken cancellationToken)
    {
        var current = await credentials.GetCredentialsAsync(cancellationToken);
        return ElastiCacheAuthToken.Generate(options.ReplicationGroupId!, options.UserId!, options.ResolveRegion(Environment.GetEnvironmentVariable)!, current, time.GetUtcNow());
    }
}
