using System.ComponentModel.DataAnnotations;

namespace CustomerRecords.Api.Caching;

/// <summary>Where cached customers live.</summary>
public enum CacheMode
{
    /// <summary>Every read goes to the database.</summary>
    None,

    /// <summary>In-process memory only: right for a single instance (the embedded default).</summary>
    Memory,

    /// <summary>Memory (L1) + Redis (L2) + a Redis backplane that keeps every instance's L1 in step.</summary>
    Redis,

    /// <summary>
    /// Memory (L1) + memcached (L2, <c>ConnectionStrings:Memcached</c>), no backplane: another instance's memory copy
    /// of a changed entry is served until it expires (<see cref="CacheOptions.MemoryDuration"/>).
    /// </summary>
    Memcached,
}

/// <summary>Settings of the <c>Cache</c> section. Redis itself is <c>ConnectionStrings:Redis</c>, memcached <c>ConnectionStrings:Memcached</c>.</summary>
public sealed class CacheOptions
{
    public const string Section = "Cache";

    /// <summary><c>None</c>, <c>Memory</c> (default), <c>Redis</c> or <c>Memcached</c>.</summary>
    public CacheMode Mode { get; set; } = CacheMode.Memory;

    /// <summary>Prefix of every key and backplane channel, so deployments sharing a Redis never see each other's entries.</summary>
    [Required, RegularExpression("^[A-Za-z0-9._-]{1,64}$", ErrorMessage = "Cache:KeyPrefix must be 1-64 letters, digits, '.', '_' or '-'.")]
    public string KeyPrefix { get; set; } = "customer-records";

    /// <summary>How long a customer stays cached (the original design's 1 hour).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan Duration { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Random extra lifetime up to this much, so entries cached together don't expire together.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan Jitter { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long an instance keeps an entry in its own memory before asking Redis again. Bounds staleness while Redis (and so the backplane) is unreachable.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan MemoryDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Most customers one instance keeps in memory. Write-through caches every created customer, so
    /// without a bound memory grows with the table; past it the least valuable entries are compacted
    /// away (they are still in Redis in Redis mode). About 1 KiB each.
    /// </summary>
    [Range(100, 10_000_000)]
    public int MemoryMaxEntries { get; set; } = 50_000;

    /// <summary>How long "no such customer" is cached, so floods of requests for missing ids don't all reach the database.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan NotFoundDuration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>When the database fails, serve the last cached value instead of an error (see <see cref="FailSafeGracePeriod"/>).</summary>
    public bool FailSafe { get; set; } = true;

    /// <summary>The longest a value may be served past its expiry while the database is failing.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan FailSafeGracePeriod { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Most open connections to each memcached server (<see cref="CacheMode.Memcached"/>); a request waits for a free one up to <see cref="RedisHardTimeout"/>.</summary>
    [Range(1, 1024)]
    public int MemcachedPoolSize { get; set; } = 16;

    /// <summary>A Redis (or memcached) read slower than this is abandoned for the database when a fallback exists.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan RedisSoftTimeout { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// A PEM file of the certificate authority Redis's TLS certificate must chain to, instead of the system's trust
    /// store (a Redis with a private CA). Empty (the default) for ElastiCache, whose certificates the system trusts.
    /// </summary>
    public string? RedisCaFile { get; set; }

    /// <summary>No Redis (or memcached) operation holds a request longer than this; it also bounds each memcached connect, command and wait for a pooled connection.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan RedisHardTimeout { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>After a write, the entry is re-read from the writer and re-set once this much later, repairing any read that raced the write.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan RepairDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Add <c>X-Cache: hit|miss</c> to the by-id responses.</summary>
    public bool CacheHeader { get; set; } = true;
}
