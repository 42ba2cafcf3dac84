using Microsoft.Extensions.Caching.Distributed;

namespace CustomerRecords.Api.Caching;

/// <summary>
/// The memcached second level (<see cref="CacheMode.Memcached"/>), with the rule <see cref="VersionedRedisCache"/>
/// gives Redis: <b>no set replaces a newer version with an older one</b>. The version is read the same way, from
/// the top-level <c>version</c> of the value inside FusionCache's serialized entry, and stored in the item's
/// client flags (version + 1; 0 = none). A versioned set is <c>gets</c>, a comparison, then <c>cas</c> with the
/// token just read (or <c>add</c> when there is no item), retried when another writer got in between; so the
/// comparison and the store are one atomic step on the server, whichever instance writes. A refused set is
/// reported to <see cref="CacheWriteRejections"/>, so the writer drops its own memory copy. Values without a
/// version are set unconditionally. Failures reach <see cref="SharedCacheRecovery"/> through
/// <see cref="MemcachedClient.Faulted"/>.
/// </summary>
internal sealed partial class MemcachedDistributedCache(MemcachedClient client, CacheWriteRejections rejections, ILogger<MemcachedDistributedCache> logger) : IDistributedCache
{
    /// <summary>Tries of one versioned set against concurrent writers of the same key before it gives up (and is treated as refused).</summary>
    internal const int MaxAttempts = 8;

    public byte[]? Get(string key) => GetAsync(key).GetAwaiter().GetResult();

    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default) =>
        (await client.GetsAsync(key, token))?.Value;

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => SetAsync(key, value, options).GetAwaiter().GetResult();

    public async Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        if (value.Length > MemcachedConnection.MaxValueBytes)
        {
            // Cannot be cached; an older copy must not stay behind it.
            LogTooLarge(logger, value.Length);
            await client.DeleteAsync(key, token);
            return;
        }

        // memcached counts expiry in whole seconds.
        var ttl = VersionedRedisCache.TimeToLive(options, TimeSpan.FromSeconds(1));
        if (Flags(VersionedRedisCache.VersionOf(value)) is not { } flags)
        {
            await client.SetAsync(key, 0, ttl, value, token);
            return;
        }

        if (!await SetIfNotOlderAsync(key, flags, ttl, value, token))
        {
            rejections.Report(key);
        }
    }

    public void Refresh(string key)
    {
        // No sliding expiration is ever set: nothing to refresh.
    }

    public Task RefreshAsync(string key, CancellationToken token = default) => Task.CompletedTask;

    public void Remove(string key) => RemoveAsync(key).GetAwaiter().GetResult();

    public async Task RemoveAsync(string key, CancellationToken token = default) => await client.DeleteAsync(key, token);

    /// <summary>The client flags that carry <paramref name="version"/>: version + 1 (0 means "no version"); null when there is none or it does not fit.</summary>
    internal static uint? Flags(long? version) => version is >= 0 and < uint.MaxValue ? (uint)(version.Value + 1) : null;

    /// <summary>The version stored in <paramref name="flags"/>, null for none.</summary>
    internal static long? VersionOf(uint flags) => flags == 0 ? null : flags - 1L;

    /// <summary>Stores unless memcached holds a newer version; false when refused (or when concurrent writers kept winning).</summary>
    private async Task<bool> SetIfNotOlderAsync(string key, uint flags, TimeSpan? ttl, byte[] value, CancellationToken token)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var current = await client.GetsAsync(key, token);
            if (current is null)
            {
                if (await client.AddAsync(key, flags, ttl, value, token) == MemcachedStoreResult.Stored)
                {
                    return true;
                }

                // Another writer added it first: compare with theirs.
                continue;
            }

            if (VersionOf(current.Flags) > VersionOf(flags))
            {
                return false;
            }

            switch (await client.CasAsync(key, flags, ttl, value, current.Cas, token))
            {
                case MemcachedStoreResult.Stored:
                    return true;
                case MemcachedStoreResult.Exists:
                case MemcachedStoreResult.NotFound:
                    // Changed (or gone) since the gets: read again.
                    continue;
            }
        }

        // What is stored was each time written after our read by someone else; our value may be the newer one,
        // so the writer must not keep it as if it were shared: treated as refused, the repair sets it again.
        LogContended(logger, MaxAttempts);
        return false;
    }

    [LoggerMessage(EventId = 3032, Level = LogLevel.Warning, Message = "A {Length}-byte cache entry is over memcached's item limit: not cached")]
    private static partial void LogTooLarge(ILogger logger, int length);

    [LoggerMessage(EventId = 3033, Level = LogLevel.Debug, Message = "A versioned memcached set lost {Attempts} times in a row to concurrent writers; treated as refused")]
    private static partial void LogContended(ILogger logger, int attempts);
}

/// <summary>
/// memcached as <see cref="SharedCacheRecovery"/> sees it. A server's identity is its pid and start time, so a
/// restart is noticed even by an idle instance. A restarted memcached is empty (it persists nothing; its warm
/// restart, <c>-e</c>, is not supported here), so a restart needs no flush; a server that was unreachable but kept
/// running (a partition, a hang) may hold values older than writes made meanwhile, which the features set again
/// on <see cref="SharedCacheRecovery.Recovered"/>. A flush is only done when a feature lost track of its writes
/// (<see cref="SharedCacheRecovery.RequestFlush"/>): memcached cannot list keys, so that is <c>flush_all</c>, which
/// also drops other deployments' entries on the same servers.
/// </summary>
internal sealed partial class MemcachedServers(MemcachedClient client, ILogger logger) : ISharedCacheServers
{
    /// <summary>Every server is a primary (memcached has no replicas); its process is its pid and start time.</summary>
    public async Task<SharedCacheObservation?> ObserveAsync(CancellationToken ct)
    {
        var processes = await client.ProcessesAsync(ct);
        return new SharedCacheObservation(
            string.Join(",", processes.Select(p => $"{p.Key}={p.Value}")),
            processes.ToDictionary(p => p.Key, p => new SharedCacheNode(p.Value, Primary: true), StringComparer.Ordinal));
    }

    public Task PingAsync(CancellationToken ct) => client.PingAsync(ct);

    public async Task FlushAsync(string identity, bool requested, CancellationToken ct)
    {
        if (!requested)
        {
            return;
        }

        await client.FlushAllAsync(ct);
        LogFlushed(logger, client.Servers.Count);
    }

    [LoggerMessage(EventId = 3034, Level = LogLevel.Warning, Message = "Too many writes during the memcached fault to re-set one by one: flushed all {Count} memcached servers")]
    private static partial void LogFlushed(ILogger logger, int count);
}
