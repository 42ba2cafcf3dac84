using System.Collections.Concurrent;
using CustomerRecords.Api.Customers;
using Microsoft.Extensions.Options;
using ZiggyCreatures.Caching.Fusion;

namespace CustomerRecords.Api.Caching;

/// <summary>
/// Cache-aside reads and write-through writes of single customers, over FusionCache (memory, or
/// memory + Redis + backplane). Writers call <see cref="SetAsync"/>/<see cref="RemoveAsync"/> only
/// after their commit; a repair re-reads the row from the writer <see cref="CacheOptions.RepairDelay"/>
/// later so that a read which fetched the old row before the commit and stored it after the write
/// cannot leave the old row cached.
/// </summary>
internal sealed class CustomerCache
{
    /// <summary>Bump when the cached <see cref="Customer"/> shape changes: new keys, old entries never read.</summary>
    public const int SchemaVersion = 1;

    private readonly IFusionCache? _cache;
    private readonly CacheOptions _options;
    private readonly CacheMetrics _metrics;
    private readonly ConcurrentDictionary<int, long> _repairsDue = new();
    private readonly TimeProvider _clock;

    // Hits in this instance's memory are answered without a factory delegate; only a memory miss takes
    // the full GetOrSet path (Redis, then the database under FusionCache's per-key lock).
    private readonly FusionCacheEntryOptions? _memoryOnly;

    public CustomerCache(IServiceProvider services, IOptions<CacheOptions> options, CacheMetrics metrics, TimeProvider clock)
    {
        _options = options.Value;
        _cache = _options.Mode == CacheMode.None ? null : services.GetRequiredService<IFusionCache>();
        _memoryOnly = _cache?.DefaultEntryOptions.Duplicate().SetSkipDistributedCacheRead(true);
        _metrics = metrics;
        _clock = clock;
        MarksResponses = _cache is not null && _options.CacheHeader;
    }

    public bool Enabled => _cache is not null;

    /// <summary>Reads should carry <c>X-Cache</c>: caching is on and <c>Cache:CacheHeader</c> allows it.</summary>
    public bool MarksResponses { get; }

    /// <summary>The customer from the cache, or loaded by <paramref name="load"/> and cached (not-found too, briefly).</summary>
    public async ValueTask<(Customer? Customer, bool Hit)> GetOrLoadAsync(
        int id, Func<int, CancellationToken, Task<Customer?>> load, CancellationToken ct)
    {
        if (_cache is null)
        {
            return (await load(id, ct), false);
        }

        var key = Key(id);
        var cached = await _cache.TryGetAsync<Customer?>(key, _memoryOnly, ct);
        if (cached.HasValue)
        {
            _metrics.Hit();
            return (cached.Value, true);
        }

        // Concurrent misses for one id share one factory call (FusionCache's per-key lock).
        var loaded = false;
        var customer = await _cache.GetOrSetAsync<Customer?>(
            key,
            async (context, token) =>
            {
                loaded = true;
                var row = await load(id, token);
                if (row is null)
                {
                    // MemoryCacheDuration (set in Redis mode) wins over Duration for the memory copy:
                    // clear it, or a "no such customer" would stay in memory for Cache:MemoryDuration.
                    context.Options.Duration = _options.NotFoundDuration;
                    context.Options.MemoryCacheDuration = null;
                    context.Options.JitterMaxDuration = TimeSpan.Zero;
                    context.Options.FailSafeMaxDuration = _options.NotFoundDuration + _options.FailSafeMaxDuration;
                }

                return row;
            },
            token: ct);

        if (loaded)
        {
            _metrics.Miss();
        }
        else
        {
            _metrics.Hit();
        }

        return (customer, !loaded);
    }

    /// <summary>Write-through after a committed create or update, on every tier and (through the backplane) every instance.</summary>
    public async ValueTask SetAsync(Customer customer)
    {
        if (_cache is null)
        {
            return;
        }

        // Not the request's token: the write is committed and acknowledged whether or not the client waits.
        await _cache.SetAsync<Customer?>(Key(customer.Id), customer, token: CancellationToken.None);
        _metrics.Set();
        ScheduleRepair(customer.Id);
    }

    /// <summary>Removal after a committed delete, on every tier and every instance.</summary>
    public async ValueTask RemoveAsync(int id)
    {
        if (_cache is null)
        {
            return;
        }

        await _cache.RemoveAsync(Key(id), token: CancellationToken.None);
        _metrics.Removal();
        ScheduleRepair(id);
    }

    /// <summary>Puts the writer's current row (or its absence) in the cache: the repair step.</summary>
    public async ValueTask RefreshAsync(int id, Customer? current)
    {
        if (_cache is null)
        {
            return;
        }

        if (current is null)
        {
            await _cache.RemoveAsync(Key(id), token: CancellationToken.None);
        }
        else
        {
            await _cache.SetAsync<Customer?>(Key(id), current, token: CancellationToken.None);
        }

        _metrics.Set();
    }

    /// <summary>Ids whose repair is due by now; each is handed out once.</summary>
    public List<int> TakeDueRepairs()
    {
        var now = _clock.GetTimestamp();
        var due = new List<int>();
        foreach (var (id, at) in _repairsDue)
        {
            if (at <= now && _repairsDue.TryRemove(new KeyValuePair<int, long>(id, at)))
            {
                due.Add(id);
            }
        }

        return due;
    }

    /// <summary>Puts back a repair that could not run (database unavailable), unless a later write already scheduled one.</summary>
    public void RetryRepair(int id) => _repairsDue.TryAdd(id, RepairDue());

    // A later write to the same id pushes its repair back: the repair must come after the last race.
    private void ScheduleRepair(int id) => _repairsDue[id] = RepairDue();

    private long RepairDue() => _clock.GetTimestamp() + (long)(_options.RepairDelay.TotalSeconds * _clock.TimestampFrequency);

    private static string Key(int id) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"customer:{id}");
}
