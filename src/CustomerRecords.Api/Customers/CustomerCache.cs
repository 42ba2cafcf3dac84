using System.Collections.Concurrent;
using System.Globalization;
using CustomerRecords.Api.Caching;
using CustomerRecords.Api.Data;
using Microsoft.Extensions.Options;
using ZiggyCreatures.Caching.Fusion;

namespace CustomerRecords.Api.Customers;

/// <summary>
/// Single-customer reads in front of the store, and write-through after each commit. <c>Cache:Mode</c>
/// picks the implementation: <see cref="NoCustomerCache"/> (every read goes to the database) or
/// <see cref="CustomerCache"/> (FusionCache: memory, or memory + Redis + backplane).
/// </summary>
internal interface ICustomerCache
{
    /// <summary>Reads should carry <c>X-Cache: hit|miss</c>.</summary>
    bool MarksResponses { get; }

    /// <summary>The customer from the cache, or loaded by <paramref name="load"/> (and cached, if this cache caches).</summary>
    ValueTask<(Customer? Customer, bool Hit)> GetOrLoadAsync(int id, Func<int, CancellationToken, Task<Customer?>> load, CancellationToken ct);

    /// <summary>Write-through after a committed create or update.</summary>
    ValueTask SetAsync(Customer customer);

    /// <summary>Removal after a committed delete.</summary>
    ValueTask RemoveAsync(int id);

    /// <summary>Runs the delayed repairs this cache schedules, until <paramref name="stoppingToken"/> fires.</summary>
    Task RunRepairsAsync(Func<int, CancellationToken, Task<Customer?>> readFromWriter, CancellationToken stoppingToken);
}

/// <summary><c>Cache:Mode=None</c>: nothing is cached, so nothing is set, removed or repaired.</summary>
internal sealed class NoCustomerCache : ICustomerCache
{
    public bool MarksResponses => false;

    public async ValueTask<(Customer? Customer, bool Hit)> GetOrLoadAsync(int id, Func<int, CancellationToken, Task<Customer?>> load, CancellationToken ct) =>
        (await load(id, ct), false);

    public ValueTask SetAsync(Customer customer) => ValueTask.CompletedTask;

    public ValueTask RemoveAsync(int id) => ValueTask.CompletedTask;

    public Task RunRepairsAsync(Func<int, CancellationToken, Task<Customer?>> readFromWriter, CancellationToken stoppingToken) => Task.CompletedTask;
}

/// <summary>
/// Cache-aside reads and write-through writes of single customers, over FusionCache. Writers call
/// <see cref="SetAsync"/>/<see cref="RemoveAsync"/> only after their commit; a repair re-reads the row
/// from the writer <see cref="CacheOptions.RepairDelay"/> later so that a read which fetched the old row
/// before the commit and stored it after the write cannot leave the old row cached.
/// </summary>
internal sealed partial class CustomerCache : ICustomerCache
{
    /// <summary>Bump when the cached <see cref="Customer"/> shape changes: new keys, old entries never read.</summary>
    public const int SchemaVersion = 1;

    private static readonly TimeSpan RepairTick = TimeSpan.FromMilliseconds(100);

    private readonly IFusionCache _cache;
    private readonly CacheOptions _options;
    private readonly CustomerCacheMetrics _metrics;
    private readonly ConcurrentDictionary<int, long> _repairsDue = new();
    private readonly TimeProvider _clock;
    private readonly ILogger<CustomerCache> _logger;

    // Hits in this instance's memory are answered without a factory delegate; only a memory miss takes
    // the full GetOrSet path (Redis, then the database under FusionCache's per-key lock).
    private readonly FusionCacheEntryOptions _memoryOnly;

    public CustomerCache(IFusionCache cache, IOptions<CacheOptions> options, CustomerCacheMetrics metrics, TimeProvider clock, ILogger<CustomerCache> logger)
    {
        _cache = cache;
        _options = options.Value;
        _memoryOnly = cache.DefaultEntryOptions.Duplicate().SetSkipDistributedCacheRead(true);
        _metrics = metrics;
        _clock = clock;
        _logger = logger;
        MarksResponses = _options.CacheHeader;
    }

    public bool MarksResponses { get; }

    /// <summary>The customer from the cache, or loaded by <paramref name="load"/> and cached (not-found too, briefly).</summary>
    public async ValueTask<(Customer? Customer, bool Hit)> GetOrLoadAsync(
        int id, Func<int, CancellationToken, Task<Customer?>> load, CancellationToken ct)
    {
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
                    context.Options.FailSafeMaxDuration = _options.NotFoundDuration + _options.FailSafeGracePeriod;
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
        // Not the request's token: the write is committed and acknowledged whether or not the client waits.
        await _cache.SetAsync<Customer?>(Key(customer.Id), customer, token: CancellationToken.None);
        _metrics.Set();
        ScheduleRepair(customer.Id);
    }

    /// <summary>Removal after a committed delete, on every tier and every instance.</summary>
    public async ValueTask RemoveAsync(int id)
    {
        await _cache.RemoveAsync(Key(id), token: CancellationToken.None);
        _metrics.Removal();
        ScheduleRepair(id);
    }

    public async Task RunRepairsAsync(Func<int, CancellationToken, Task<Customer?>> readFromWriter, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(RepairTick);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var id in TakeDueRepairs())
            {
                try
                {
                    await RefreshAsync(id, await readFromWriter(id, stoppingToken));
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested && DbFailures.IsUnavailable(e))
                {
                    // The entry may be the stale one the repair exists for: try again later.
                    LogRepairPostponed(_logger, id);
                    RetryRepair(id);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    // An exception escaping a background service stops the whole host; a repair is not worth that.
                    LogRepairFailed(_logger, id, e.GetType().Name);
                }
            }
        }
    }

    /// <summary>Puts the writer's current row (or its absence) in the cache: the repair step.</summary>
    internal async ValueTask RefreshAsync(int id, Customer? current)
    {
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
    internal List<int> TakeDueRepairs()
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
    private void RetryRepair(int id) => _repairsDue.TryAdd(id, RepairDue());

    // A later write to the same id pushes its repair back: the repair must come after the last race.
    private void ScheduleRepair(int id) => _repairsDue[id] = RepairDue();

    private long RepairDue() => _clock.GetTimestamp() + (long)(_options.RepairDelay.TotalSeconds * _clock.TimestampFrequency);

    // Under the cache's Cache:KeyPrefix: "{prefix}:v1:customer:42".
    private static string Key(int id) => string.Create(CultureInfo.InvariantCulture, $"v{SchemaVersion}:customer:{id}");

    [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "Cache repair of customer {Id} postponed: database unavailable")]
    private static partial void LogRepairPostponed(ILogger logger, int id);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Cache repair of customer {Id} failed with {ExceptionType}; the entry keeps its cached value")]
    private static partial void LogRepairFailed(ILogger logger, int id, string exceptionType);
}
