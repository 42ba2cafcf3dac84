using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Caching.Distributed;
using StackExchange.Redis;

namespace CustomerRecords.Api.Caching;

/// <summary>
/// The Redis second level, with one rule plain <c>RedisCache</c> cannot give: <b>no set replaces a newer
/// version with an older one</b>. A cached value that is a JSON object with a top-level <c>version</c>
/// number is written by one Lua script that compares it with the stored version first, atomically, on
/// the server — so a write-through that lost a race (an update committed before a delete but cached after
/// it, a read from before a commit stored after it, a lagging replica) can never overwrite what a later
/// commit put there, whichever instance it comes from. Values without a version are set unconditionally.
/// A refused set is reported to <see cref="CacheWriteRejections"/>, so the writer drops its own memory copy.
/// </summary>
internal sealed class VersionedRedisCache(RedisConnection redis, CacheWriteRejections rejections, SharedCacheRecovery recovery) : IDistributedCache
{
    // KEYS[1] the key; ARGV[1] the payload; ARGV[2] its version ('' = unconditional); ARGV[3] ttl in ms ('' = none).
    private const string SetScript = """
        if ARGV[2] ~= '' then
          local current = redis.call('HGET', KEYS[1], 'ver')
          if current and tonumber(current) > tonumber(ARGV[2]) then return 0 end
        end
        redis.call('DEL', KEYS[1])
        redis.call('HSET', KEYS[1], 'data', ARGV[1])
        if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'ver', ARGV[2]) end
        if ARGV[3] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
        return 1
        """;

    private static readonly RedisValue Data = "data";

    public byte[]? Get(string key) => GetAsync(key).GetAwaiter().GetResult();

    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        var database = await DatabaseAsync();
        return await Watch(database.HashGetAsync(key, Data));
    }

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => SetAsync(key, value, options).GetAwaiter().GetResult();

    public async Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        var database = await DatabaseAsync();
        var version = VersionOf(value);
        var ttl = TimeToLive(options, TimeSpan.FromMilliseconds(1));
        var written = (long)await Watch(database.ScriptEvaluateAsync(
            SetScript,
            [key],
            [value, version?.ToString(CultureInfo.InvariantCulture) ?? string.Empty, ttl is { } t ? ((long)Math.Ceiling(t.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture) : string.Empty]));
        if (written == 0)
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

    public async Task RemoveAsync(string key, CancellationToken token = default)
    {
        var database = await DatabaseAsync();
        await Watch(database.KeyDeleteAsync(key));
    }

    /// <summary>The top-level <c>version</c> of the cached value inside FusionCache's entry (<c>{"value": {"version": 7, ...}, ...}</c>), if any.</summary>
    internal static long? VersionOf(ReadOnlySpan<byte> payload)
    {
        try
        {
            var reader = new Utf8JsonReader(payload);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isValue = reader.ValueTextEquals("value"u8);
                reader.Read();
                if (!isValue)
                {
                    reader.Skip();
                    continue;
                }

                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    return null;
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isVersion = reader.ValueTextEquals("version"u8);
                    reader.Read();
                    if (isVersion)
                    {
                        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var version) ? version : null;
                    }

                    reader.Skip();
                }

                return null;
            }
        }
        catch (JsonException)
        {
            // Not JSON we know: set it unconditionally, as any cache would.
        }

        return null;
    }

    /// <summary>
    /// How long an entry set with <paramref name="options"/> should live from now; an absolute expiry already past
    /// gives <paramref name="shortest"/> (the server's resolution: an expired entry is not refused, it just goes).
    /// </summary>
    internal static TimeSpan? TimeToLive(DistributedCacheEntryOptions options, TimeSpan shortest)
    {
        if (options.AbsoluteExpirationRelativeToNow is { } relative)
        {
            return relative;
        }

        if (options.AbsoluteExpiration is { } absolute)
        {
            var left = absolute - DateTimeOffset.UtcNow;
            return left > TimeSpan.Zero ? left : shortest;
        }

        return options.SlidingExpiration;
    }

    private async Task<IDatabase> DatabaseAsync()
    {
        try
        {
            return (await redis.GetAsync()).GetDatabase();
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            recovery.MarkSuspect();
            throw;
        }
    }

    /// <summary>Any failure or timeout means writes may have been lost: the recovery must run when Redis answers again.</summary>
    private async Task<T> Watch<T>(Task<T> operation)
    {
        try
        {
            return await operation;
        }
        catch (Exception e) when (e is RedisException or TimeoutException or OperationCanceledException)
        {
            recovery.MarkSuspect();
            throw;
        }
    }
}

/// <summary>Keys whose last set Redis refused because it held a newer version; the writer drops its own memory copy of each.</summary>
internal sealed class CacheWriteRejections
{
    private readonly ConcurrentDictionary<string, byte> _keys = new(StringComparer.Ordinal);

    public void Report(string redisKey) => _keys[redisKey] = 0;

    /// <summary>True (once) when the last set of a key ending in <paramref name="key"/> was refused.</summary>
    public bool TryTake(string key)
    {
        if (_keys.IsEmpty)
        {
            return false;
        }

        foreach (var stored in _keys.Keys)
        {
            // FusionCache's Redis key is "{wire version}:{Cache:KeyPrefix}:{key}".
            if (stored.Length > key.Length && stored.EndsWith(key, StringComparison.Ordinal) && stored[^(key.Length + 1)] == ':'
                && _keys.TryRemove(stored, out _))
            {
                return true;
            }
        }

        return false;
    }
}
