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

    /// <summary>Removal after a committed delete (<paramref name="version"/>: the deleted row's) or erasure (<see cref="CustomerEntry.Gone"/>).</summary>
    ValueTask RemoveAsync(int id, int version);

    /// <summary>
    /// Runs the delayed repairs this cache schedules, until <paramref name="stoppingToken"/> fires; the ids due at one
    /// tick are read from the writer together by <paramref name="readFromWriter"/> (every id given gets an entry).
    /// </summary>
    Task RunRepairsAsync(Func<IReadOnlyList<int>, CancellationToken, Task<IReadOnlyDictionary<int, CustomerEntry>>> readFromWriter, CancellationToken stoppingToken);
}

/// <summary><c>Cache:Mode=None</c>: nothing is cached, so nothing is set, removed or repaired.</summary>
internal sealed class NoCustomerCache : ICustomerCache
{
    public bool MarksResponses => false;

    public async ValueTask<(Customer? Customer, bool Hit)> GetOrLoadAsync(int id, Func<int, CancellationToken, Task<Customer?>> load, CancellationToken ct) =>
        (await load(id, ct), false);

    public ValueTask SetAsync(Customer customer) => ValueTask.CompletedTask;

    public ValueTask RemoveAsync(int id, int version) => ValueTask.CompletedTask;

    public Task RunRepairsAsync(Func<IReadOnlyList<int>, CancellationToken, Task<IReadOnlyDictionary<int, CustomerEntry>>> readFromWriter, CancellationToken stoppingToken) => Task.CompletedTask;
}

/// <summary>
/// What is cached for one id: the row with its version, or no row. <see cref="Version"/> orders entries, so
/// that no cache level keeps an older state over a newer one (Redis checks it atomically, see
/// <see cref="VersionedRedisCache"/>; this instance's memory checks it against <see cref="CustomerCache"/>'s floors).
/// </summary>
/// <param name="Version">
/// The row's version; 0 for "not found" by a read (a later create or restore wins); the deleted row's version
/// after a soft delete (a restore bumps it again, so it wins); <see cref="Gone"/> once the row is erased or purged.
/// </param>
/// <param name="Customer">The row, or null when there is none (or it is deleted).</param>
public sealed record CustomerEntry(int Version, Customer? Customer)
{
    /// <summary>An erased or purged customer's version: ids are never reused, so nothing may replace it.</summary>
    public const int Gone = int.MaxValue;
}

/// <summary>
/// Cache-aside reads and write-through writes of single customers, over FusionCache, by version:
/// <list type="bullet">
/// <item>every write sets the committed row (or, for a delete, a tombstone at the deleted row's version; for an
/// erasure, one that outranks every version);</item>
/// <item>Redis refuses a set older than what it holds, and the instance that tried drops its memory copy;</item>
/// <item>this instance remembers the highest version it wrote per id (its floor) for a while; a read that
/// loaded an older row than that (it raced a write here) is not kept in memory;</item>
/// <item>after a Redis fault (<see cref="SharedCacheRecovery"/>) every id written since the fault is re-read
/// from the writer and set again;</item>
/// <item>and, as before, each write is re-read from the writer <see cref="CacheOptions.RepairDelay"/> later.</item>
/// </list>
/// </summary>
internal sealed partial class CustomerCache : ICustomerCache, IDisposable
{
    /// <summary>Bump when the cached shape changes: new keys, old entries never read.</summary>
    public const int SchemaVersion = 3;

    private static readonly TimeSpan RepairTick = TimeSpan.FromMilliseconds(100);

    /// <summary>How long a floor is kept: far longer than any write-through or read can take.</summary>
    private static readonly TimeSpan FloorLifetime = TimeSpan.FromMinutes(15);

    /// <summary>Most ids remembered; past it, a recovery flushes the shared cache instead of re-setting ids.</summary>
    private const int MaxFloors = 200_000;

    private readonly IFusionCache _cache;
    private readonly CacheOptions _options;
    private readonly CustomerCacheMetrics _metrics;
    private readonly CacheWriteRejections _rejections;
    private readonly SharedCacheRecovery _recovery;
    private readonly ConcurrentDictionary<int, long> _repairsDue = new();
    private readonly ConcurrentDictionary<int, Floor> _floors = new();
    private readonly SemaphoreSlim[] _stripes = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];
    private readonly TimeProvider _clock;
    private readonly ILogger<CustomerCache> _logger;

    // Hits in this instance's memory are answered without a factory delegate; only a memory miss takes
    // the full GetOrSet path (Redis, then the database under FusionCache's per-key lock).
    private readonly FusionCacheEntryOptions _memoryOnly;

    // Drops this instance's memory copy only: Redis and the other instances are left alone.
    private readonly FusionCacheEntryOptions _localEvict;

    private readonly FusionCacheEntryOptions _tombstone;
    private readonly FusionCacheEntryOptions _localTombstone;

    private int _writesSincePrune;

    /// <summary>The highest version this instance wrote for an id, whether that write was a deletion, and when.</summary>
    private readonly record struct Floor(int Version, bool Deleted, long At);

    public CustomerCache(
        IFusionCache cache,
        IOptions<CacheOptions> options,
        CustomerCacheMetrics metrics,
        CacheWriteRejections rejections,
        SharedCacheRecovery recovery,
        TimeProvider clock,
        ILogger<CustomerCache> logger)
    {
        _cache = cache;
        _options = options.Value;
        _memoryOnly = cache.DefaultEntryOptions.Duplicate().SetSkipDistributedCacheRead(true);
        _localEvict = cache.DefaultEntryOptions.Duplicate().SetSkipDistributedCache(true, true).SetSkipBackplaneNotifications(true);

        // A deletion is kept as long as a row would be: a write-through that lost the race to it must find it there.
        _tombstone = cache.DefaultEntryOptions.Duplicate();
        _localTombstone = _tombstone.Duplicate().SetSkipDistributedCache(true, true).SetSkipBackplaneNotifications(true);
        _metrics = metrics;
        _rejections = rejections;
        _recovery = recovery;
        _clock = clock;
        _logger = logger;
        MarksResponses = _options.CacheHeader;
        recovery.Recovered += OnRecovered;
    }

    public bool MarksResponses { get; }

    /// <summary>The customer from the cache, or loaded by <paramref name="load"/> and cached (not-found too, briefly).</summary>
    public async ValueTask<(Customer? Customer, bool Hit)> GetOrLoadAsync(
        int id, Func<int, CancellationToken, Task<Customer?>> load, CancellationToken ct)
    {
        var key = Key(id);
        var cached = await _cache.TryGetAsync<CustomerEntry>(key, _memoryOnly, ct);
        if (cached.HasValue)
        {
            _metrics.Hit();
            return (cached.Value.Customer, true);
        }

        // Concurrent misses for one id share one factory call (FusionCache's per-key lock).
        var loaded = false;
        var entry = await _cache.GetOrSetAsync<CustomerEntry>(
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
                    return new CustomerEntry(0, null);
                }

                return new CustomerEntry(row.Version, row);
            },
            token: ct);

        if (loaded)
        {
            _metrics.Miss();

            // The load may have raced a write (here, or elsewhere and refused by Redis): keep no older copy.
            var refused = _rejections.TryTake(key);
            if (_floors.TryGetValue(id, out var floor) && floor.Deleted && entry.Version < floor.Version)
            {
                // Deleted here: the state is known, keep the tombstone rather than nothing.
                await _cache.SetAsync(key, new CustomerEntry(floor.Version, null), _localTombstone, CancellationToken.None);
            }
            else if (refused || floor.Version > entry.Version)
            {
                await _cache.RemoveAsync(key, _localEvict, CancellationToken.None);
            }
        }
        else
        {
            _metrics.Hit();
        }

        return (entry.Customer, !loaded);
    }

    /// <summary>Write-through after a committed create or update, on every tier and (through the backplane) every instance.</summary>
    public ValueTask SetAsync(Customer customer) => WriteAsync(customer.Id, new CustomerEntry(customer.Version, customer), null);

    /// <summary>A tombstone after a committed delete or erasure, on every tier and every instance: no older write can bring the row back.</summary>
    public ValueTask RemoveAsync(int id, int version) => WriteAsync(id, new CustomerEntry(version, null), _tombstone);

    public async Task RunRepairsAsync(
        Func<IReadOnlyList<int>, CancellationToken, Task<IReadOnlyDictionary<int, CustomerEntry>>> readFromWriter, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(RepairTick);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var due = TakeDueRepairs();
            if (due.Count == 0)
            {
                continue;
            }

            IReadOnlyDictionary<int, CustomerEntry> current;
            try
            {
                // One read for every id due at this tick, not one per write.
                current = await readFromWriter(due, stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested && DbFailures.IsUnavailable(e))
            {
                // The entries may be the stale ones the repair exists for: try again later.
                LogRepairsPostponed(_logger, due.Count);
                foreach (var id in due)
                {
                    RetryRepair(id);
                }

                continue;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // An exception escaping a background service stops the whole host; a repair is not worth that.
                LogRepairsFailed(_logger, due.Count, e.GetType().Name);
                continue;
            }

            foreach (var id in due)
            {
                try
                {
                    await RefreshAsync(id, current[id]);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    LogRepairFailed(_logger, id, e.GetType().Name);
                }
            }
        }
    }

    /// <summary>Puts the writer's current state (the row, or a tombstone: deleted, erased or purged) in the cache: the repair step.</summary>
    internal async ValueTask RefreshAsync(int id, CustomerEntry current)
    {
        await ApplyAsync(id, current, current.Customer is null ? _tombstone : null);
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

    public void Dispose()
    {
        _recovery.Recovered -= OnRecovered;
        foreach (var stripe in _stripes)
        {
            stripe.Dispose();
        }
    }

    private async ValueTask WriteAsync(int id, CustomerEntry entry, FusionCacheEntryOptions? options)
    {
        RaiseFloor(id, entry.Version, entry.Customer is null);
        await ApplyAsync(id, entry, options);
        if (entry.Customer is null)
        {
            _metrics.Removal();
        }
        else
        {
            _metrics.Set();
        }

        ScheduleRepair(id);
    }

    /// <summary>
    /// Sets <paramref name="entry"/> unless this instance already set a newer one (one id at a time here, so the
    /// check and the set cannot interleave with another write of this instance); Redis applies the same rule
    /// across instances, and a set it refused leaves no copy in this instance's memory.
    /// </summary>
    private async ValueTask ApplyAsync(int id, CustomerEntry entry, FusionCacheEntryOptions? options)
    {
        var key = Key(id);
        var stripe = _stripes[(uint)id % (uint)_stripes.Length];
        await stripe.WaitAsync(CancellationToken.None);
        try
        {
            if (_floors.TryGetValue(id, out var floor) && floor.Version > entry.Version)
            {
                return;
            }

            // Not the request's token: the write is committed and acknowledged whether or not the client waits.
            await _cache.SetAsync(key, entry, options, CancellationToken.None);
            if (_rejections.TryTake(key))
            {
                await _cache.RemoveAsync(key, _localEvict, CancellationToken.None);
            }
        }
        finally
        {
            stripe.Release();
        }
    }

    private void RaiseFloor(int id, int version, bool deleted)
    {
        var now = _clock.GetTimestamp();
        _floors.AddOrUpdate(id, static (_, state) => new Floor(state.version, state.deleted, state.now), static (_, old, state) =>
            state.version >= old.Version ? new Floor(state.version, state.deleted, state.now) : old with { At = state.now }, (version, deleted, now));

        // Forget old floors now and then (never while Redis is suspect: a recovery needs them).
        if (Interlocked.Increment(ref _writesSincePrune) % 1024 == 0 && !_recovery.Suspect)
        {
            var cutoff = now - (long)(FloorLifetime.TotalSeconds * _clock.TimestampFrequency);
            foreach (var (key, value) in _floors)
            {
                if (value.At < cutoff)
                {
                    _floors.TryRemove(new KeyValuePair<int, Floor>(key, value));
                }
            }
        }

        if (_floors.Count > MaxFloors && _recovery.Suspect)
        {
            _recovery.RequestFlush();
        }
    }

    /// <summary>After a Redis fault: every id this instance wrote since then is re-read from the writer and set again.</summary>
    private void OnRecovered(CacheRecovery recovery)
    {
        var since = _clock.GetTimestamp() - (long)((_clock.GetUtcNow() - recovery.Since).TotalSeconds * _clock.TimestampFrequency);
        var due = _clock.GetTimestamp();
        var count = 0;
        foreach (var (id, floor) in _floors)
        {
            if (floor.At >= since)
            {
                _repairsDue[id] = due;
                count++;
            }
        }

        LogRecoveryRepairs(_logger, count);
    }

    /// <summary>Puts back a repair that could not run (database unavailable), unless a later write already scheduled one.</summary>
    private void RetryRepair(int id) => _repairsDue.TryAdd(id, RepairDue());

    // A later write to the same id pushes its repair back: the repair must come after the last race.
    private void ScheduleRepair(int id) => _repairsDue[id] = RepairDue();

    private long RepairDue() => _clock.GetTimestamp() + (long)(_options.RepairDelay.TotalSeconds * _clock.TimestampFrequency);

    // Under the cache's Cache:KeyPrefix: "{prefix}:v3:customer:42".
    private static string Key(int id) => string.Create(CultureInfo.InvariantCulture, $"v{SchemaVersion}:customer:{id}");

    [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "Cache repair of {Count} customers postponed: database unavailable")]
    private static partial void LogRepairsPostponed(ILogger logger, int count);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Cache repair of {Count} customers failed with {ExceptionType}; the entries keep their cached values")]
    private static partial void LogRepairsFailed(ILogger logger, int count, string exceptionType);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Cache repair of customer {Id} failed with {ExceptionType}; the entry keeps its cached value")]
    private static partial void LogRepairFailed(ILogger logger, int id, string exceptionType);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Information, Message = "Shared cache recovered: re-reading {Count} customers written since the fault")]
    private static partial void LogRecoveryRepairs(ILogger logger, int count);
}
