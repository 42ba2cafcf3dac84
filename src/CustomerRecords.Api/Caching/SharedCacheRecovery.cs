using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using ZiggyCreatures.Caching.Fusion;

namespace CustomerRecords.Api.Caching;

/// <summary>What a shared-cache recovery tells the features: writes since <see cref="Since"/> may be missing from Redis.</summary>
/// <param name="Since">When Redis was first seen failing (minus a margin for writes that were already in flight).</param>
/// <param name="RedisRestarted">Redis came back as a new process (empty, or from a snapshot): its entries were flushed.</param>
internal sealed record CacheRecovery(DateTimeOffset Since, bool RedisRestarted);

/// <summary>
/// Makes the shared cache converge after any Redis fault. A fault is anything that may have cost a write:
/// a lost connection, a failed or timed-out command, an open FusionCache circuit breaker. From then on
/// Redis is "suspect"; once it answers again (checked every second), each instance:
/// <list type="number">
/// <item>flushes the deployment's keys if Redis is a new process (its <c>run_id</c> changed: it restarted
/// empty or from an older snapshot, so no entry in it can be trusted to be current);</item>
/// <item>clears its own memory level — it cannot know which backplane messages it missed;</item>
/// <item>tells the features (<see cref="Recovered"/>), which re-read what they wrote since the fault from the
/// database and set it again, so Redis and every other instance (through the backplane) get the latest rows.</item>
/// </list>
/// FusionCache's own auto-recovery is off: it replays the values of the time, which can be older than a later
/// write; re-reading the database is never older than the last commit. If recovery fails (Redis failing
/// again), Redis stays suspect and it runs again. The features' re-sets wait until FusionCache's circuit breaker
/// lets writes through to the shared cache again.
/// In <see cref="CacheMode.Memcached"/> the same steps run against memcached (<see cref="MemcachedServers"/>):
/// a failed operation or probe makes it suspect; a restarted memcached is empty, so only the re-sets are needed.
/// Each mode's servers are an <see cref="ISharedCacheServers"/>; what counts as a restart is decided here, once,
/// from the nodes they report (<see cref="Restarted"/>).
/// </summary>
internal sealed partial class SharedCacheRecovery(
    IServiceProvider services,
    IOptions<CacheOptions> options,
    TimeProvider clock,
    ILogger<SharedCacheRecovery> logger) : BackgroundService
{
    private static readonly TimeSpan Probe = TimeSpan.FromSeconds(1);

    private readonly Lock _gate = new();
    private DateTimeOffset? _suspectSince;
    private bool _flushRequested;
    private Dictionary<string, SharedCacheNode>? _nodes;
    private DateTimeOffset _breakerOpenedAt = DateTimeOffset.MinValue;

    /// <summary>Raised after each recovery, on the recovery's own task; handlers should only schedule work.</summary>
    public event Action<CacheRecovery>? Recovered;

    /// <summary>True while a fault has not been recovered from.</summary>
    public bool Suspect
    {
        get
        {
            lock (_gate)
            {
                return _suspectSince is not null;
            }
        }
    }

    /// <summary>Something may have cost a write to Redis; recover when it answers again.</summary>
    public void MarkSuspect()
    {
        lock (_gate)
        {
            if (_suspectSince is null)
            {
                // A write already in flight when Redis stopped answering failed up to a hard timeout earlier.
                _suspectSince = clock.GetUtcNow() - options.Value.RedisHardTimeout - TimeSpan.FromSeconds(5);
                LogSuspect(logger, options.Value.Mode);
            }
        }
    }

    /// <summary>A feature lost track of what it wrote during the fault: the next recovery flushes the deployment's keys.</summary>
    public void RequestFlush()
    {
        lock (_gate)
        {
            _flushRequested = true;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        ISharedCacheServers servers;
        switch (options.Value.Mode)
        {
            case CacheMode.Redis:
                var connection = services.GetRequiredService<RedisConnection>();
                connection.Lost += MarkSuspect;
                servers = new RedisServers(this, connection);
                break;
            case CacheMode.Memcached:
                var client = services.GetRequiredService<MemcachedClient>();
                client.Faulted += MarkSuspect;
                servers = new MemcachedServers(client, logger);
                break;
            default:
                return;
        }

        var cache = services.GetRequiredService<IFusionCache>();
        cache.Events.Distributed.CircuitBreakerChange += (_, e) => OnBreaker(e.IsClosed);
        cache.Events.Backplane.CircuitBreakerChange += (_, e) => OnBreaker(e.IsClosed);

        using var timer = new PeriodicTimer(Probe);
        do
        {
            try
            {
                await TickAsync(servers, stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Still failing (or refusing a command): stay suspect, try again on the next tick. An
                // exception escaping a background service would stop the host.
                var failure = e.GetType().Name;
                LogTickFailed(logger, failure);

                MarkSuspect();
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private void OnBreaker(bool closed)
    {
        if (!closed)
        {
            lock (_gate)
            {
                _breakerOpenedAt = clock.GetUtcNow();
            }

            MarkSuspect();
        }
    }

    private async Task TickAsync(ISharedCacheServers servers, CancellationToken ct)
    {
        if (await servers.ObserveAsync(ct) is not { } observed)
        {
            MarkSuspect();
            return;
        }

        var (identity, nodes) = observed;
        DateTimeOffset since;
        bool flush;
        bool requested;
        lock (_gate)
        {
            var restarted = _nodes is not null && Restarted(_nodes, nodes);
            if (restarted && _suspectSince is null)
            {
                // A restart nobody's command noticed (an idle instance): recover all the same.
                _suspectSince = clock.GetUtcNow() - options.Value.RedisHardTimeout - TimeSpan.FromSeconds(5);
            }

            if (!restarted)
            {
                // Nodes seen for the first time (connections still coming up, a new shard) are no restart.
                _nodes = Merge(_nodes, nodes);
            }

            if (_suspectSince is not { } suspect)
            {
                return;
            }

            // While FusionCache's circuit breaker is open it skips the shared cache: the features' re-sets
            // would reach memory only and leave an older value in the shared cache. Wait until it lets them through.
            // (A restart seen meanwhile is not forgotten: the known nodes are only updated by a recovery.)
            if (clock.GetUtcNow() - _breakerOpenedAt < CachingExtensions.CircuitBreakerDuration)
            {
                return;
            }

            since = suspect;
            requested = _flushRequested;
            flush = restarted || requested;
        }

        // The servers answer: prove it with a round trip before trusting them with the recovery.
        await servers.PingAsync(ct);
        if (flush)
        {
            await servers.FlushAsync(identity, requested, ct);
        }

        services.GetRequiredService<CacheMemory>().Clear();
        lock (_gate)
        {
            _suspectSince = null;
            _flushRequested = false;
            _nodes = Merge(_nodes, nodes);
        }

        Recovered?.Invoke(new CacheRecovery(since, flush));
        LogRecovered(logger, flush);
    }

    /// <summary>
    /// A node known before now serves as a primary with data that may lack writes: its process restarted (new
    /// <c>run_id</c>: empty, or from an older snapshot), or it was a replica and got promoted (a cluster or
    /// Sentinel failover: asynchronous replication can lose the old primary's last writes). A node seen for the
    /// first time, or a primary come back as a replica, is none.
    /// </summary>
    private static bool Restarted(Dictionary<string, SharedCacheNode> before, IReadOnlyDictionary<string, SharedCacheNode> now) =>
        now.Any(n => n.Value.Primary && before.TryGetValue(n.Key, out var was) && (!was.Primary || !string.Equals(was.Process, n.Value.Process, StringComparison.Ordinal)));

    /// <summary>What is known now: the nodes seen this time, and the last view of those not connected right now.</summary>
    private static Dictionary<string, SharedCacheNode> Merge(Dictionary<string, SharedCacheNode>? before, IReadOnlyDictionary<string, SharedCacheNode> now)
    {
        var merged = before is null ? new Dictionary<string, SharedCacheNode>(StringComparer.Ordinal) : new Dictionary<string, SharedCacheNode>(before, StringComparer.Ordinal);
        foreach (var (name, node) in now)
        {
            merged[name] = node;
        }

        return merged;
    }

    /// <summary>Deletes the deployment's cache keys, once per Redis process (any instance may; the rest find it done).</summary>
    private async Task FlushAsync(IConnectionMultiplexer multiplexer, string runId)
    {
        var prefix = options.Value.KeyPrefix;
        var database = multiplexer.GetDatabase();
        if (!await database.StringSetAsync($"recovery|{prefix}|{runId}", "1", TimeSpan.FromHours(1), When.NotExists))
        {
            return;
        }

        var ours = new Regex($"^(?:v\\d+:)?{Regex.Escape(prefix)}:", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        var deleted = 0;
        foreach (var endpoint in multiplexer.GetEndPoints())
        {
            var server = multiplexer.GetServer(endpoint);
            if (!server.IsConnected || server.IsReplica)
            {
                continue;
            }

            var batch = new List<RedisKey>(256);
            await foreach (var key in server.KeysAsync(pattern: $"*{prefix}:*", pageSize: 1000))
            {
                if (ours.IsMatch(key.ToString()))
                {
                    batch.Add(key);
                }

                if (batch.Count == 256)
                {
                    deleted += await DeleteAsync(multiplexer, server, database, batch);
                    batch.Clear();
                }
            }

            if (batch.Count > 0)
            {
                deleted += await DeleteAsync(multiplexer, server, database, batch);
            }
        }

        LogFlushed(logger, deleted);
    }

    /// <summary>
    /// One DEL per batch on a single Redis; on a cluster one DEL per hash slot, since a command's keys must share a
    /// slot there (CROSSSLOT otherwise). <see cref="IServer.KeysAsync"/> scans one primary, so its keys are all served there.
    /// </summary>
    private static async Task<int> DeleteAsync(IConnectionMultiplexer multiplexer, IServer server, IDatabase database, List<RedisKey> batch)
    {
        if (server.ServerType != ServerType.Cluster)
        {
            return (int)await database.KeyDeleteAsync([.. batch]);
        }

        var counts = await Task.WhenAll(batch.GroupBy(k => multiplexer.HashSlot(k)).Select(slot => database.KeyDeleteAsync([.. slot])));
        return (int)counts.Sum();
    }

    /// <summary>
    /// Redis as the recovery sees it: every connected node's role and each primary's <c>run_id</c> (single Redis,
    /// Sentinel or cluster), PING, and a flush of the deployment's keys (one DEL per hash slot on a cluster).
    /// </summary>
    private sealed class RedisServers(SharedCacheRecovery owner, RedisConnection connection) : ISharedCacheServers
    {
        /// <summary>
        /// Every connected node's role, and each primary's <c>run_id</c>, which changes whenever its process restarts;
        /// the identity is the primaries' run ids joined, which names the flush (once per set of processes).
        /// </summary>
        public async Task<SharedCacheObservation?> ObserveAsync(CancellationToken ct)
        {
            var multiplexer = await connection.GetAsync().WaitAsync(ct);
            if (!multiplexer.IsConnected)
            {
                return null;
            }

            var nodes = new Dictionary<string, SharedCacheNode>(StringComparer.Ordinal);
            foreach (var endpoint in multiplexer.GetEndPoints())
            {
                var server = multiplexer.GetServer(endpoint);
                if (!server.IsConnected)
                {
                    continue;
                }

                var name = endpoint.ToString()!;
                if (server.IsReplica)
                {
                    nodes[name] = new SharedCacheNode(string.Empty, Primary: false);
                    continue;
                }

                var info = await server.InfoRawAsync("server");
                var match = RunIdLine().Match(info ?? string.Empty);
                nodes[name] = new SharedCacheNode(match.Success ? match.Groups[1].Value : name, Primary: true);
            }

            var ids = nodes.Values.Where(n => n.Primary).Select(n => n.Process).Order(StringComparer.Ordinal);
            return new SharedCacheObservation(string.Join(",", ids), nodes);
        }

        public async Task PingAsync(CancellationToken ct) => await (await connection.GetAsync().WaitAsync(ct)).GetDatabase().PingAsync();

        // A restarted Redis may have loaded an older snapshot: flush on a restart as on a request.
        public async Task FlushAsync(string identity, bool requested, CancellationToken ct) =>
            await owner.FlushAsync(await connection.GetAsync().WaitAsync(ct), identity);
    }

    [GeneratedRegex(@"run_id:(\w+)")]
    private static partial Regex RunIdLine();

    [LoggerMessage(EventId = 3023, Level = LogLevel.Debug, Message = "Shared cache recovery check failed with {ExceptionType}; trying again in a second")]
    private static partial void LogTickFailed(ILogger logger, string exceptionType);

    [LoggerMessage(EventId = 3020, Level = LogLevel.Warning, Message = "The shared cache ({Mode}) failed; writes may be missing from it until it answers again")]
    private static partial void LogSuspect(ILogger logger, CacheMode mode);

    [LoggerMessage(EventId = 3021, Level = LogLevel.Information, Message = "The shared cache answers again and recovered (flushed: {Flushed})")]
    private static partial void LogRecovered(ILogger logger, bool flushed);

    [LoggerMessage(EventId = 3022, Level = LogLevel.Warning, Message = "Redis is a new process (restarted empty or from a snapshot): deleted {Count} cache entries")]
    private static partial void LogFlushed(ILogger logger, int count);
}

/// <summary>One shared-cache node as last seen: its process (changes whenever it restarts; primaries only) and its role.</summary>
internal sealed record SharedCacheNode(string Process, bool Primary);

/// <summary>The shared cache's nodes as seen now (by endpoint), and an identity of their processes that names a flush.</summary>
internal sealed record SharedCacheObservation(string Identity, IReadOnlyDictionary<string, SharedCacheNode> Nodes);

/// <summary>The shared cache's servers, as <see cref="SharedCacheRecovery"/> probes, proves and flushes them.</summary>
internal interface ISharedCacheServers
{
    /// <summary>
    /// Every reachable node with its role and process; null when not connected (throws when a server fails).
    /// The recovery compares it with the nodes it knew: a known node now a primary with another process, or a
    /// known replica promoted, is a restart; a node seen for the first time is not.
    /// </summary>
    Task<SharedCacheObservation?> ObserveAsync(CancellationToken ct);

    /// <summary>A round trip to every server.</summary>
    Task PingAsync(CancellationToken ct);

    /// <summary>
    /// Drops entries that may be older than the database after a restart (<paramref name="requested"/> false) or
    /// because a feature lost track of what it wrote during the fault (<paramref name="requested"/> true).
    /// </summary>
    Task FlushAsync(string identity, bool requested, CancellationToken ct);
}

/// <summary>The memory level FusionCache uses, owned here so that a recovery can clear it.</summary>
internal sealed class CacheMemory(IOptions<CacheOptions> options) : IDisposable
{
    public Microsoft.Extensions.Caching.Memory.MemoryCache Cache { get; } =
        new(new Microsoft.Extensions.Caching.Memory.MemoryCacheOptions { SizeLimit = options.Value.MemoryMaxEntries });

    public void Clear() => Cache.Clear();

    public void Dispose() => Cache.Dispose();
}
