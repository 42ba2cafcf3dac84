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
/// again), Redis stays suspect and it runs again.
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
    private Dictionary<string, RedisNode>? _nodes;

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
                LogSuspect(logger);
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
        if (options.Value.Mode != CacheMode.Redis)
        {
            return;
        }

        var connection = services.GetRequiredService<RedisConnection>();
        connection.Lost += MarkSuspect;
        var cache = services.GetRequiredService<IFusionCache>();
        cache.Events.Distributed.CircuitBreakerChange += (_, e) => OnBreaker(e.IsClosed);
        cache.Events.Backplane.CircuitBreakerChange += (_, e) => OnBreaker(e.IsClosed);

        using var timer = new PeriodicTimer(Probe);
        do
        {
            try
            {
                await TickAsync(connection, stoppingToken);
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
            MarkSuspect();
        }
    }

    private async Task TickAsync(RedisConnection connection, CancellationToken ct)
    {
        var multiplexer = await connection.GetAsync().WaitAsync(ct);
        if (!multiplexer.IsConnected)
        {
            MarkSuspect();
            return;
        }

        var (runId, nodes) = await ObserveAsync(multiplexer);
        DateTimeOffset since;
        bool flush;
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

            since = suspect;
            flush = restarted || _flushRequested;
        }

        // Redis answers: prove it with a round trip before trusting it with the recovery.
        await multiplexer.GetDatabase().PingAsync();
        if (flush)
        {
            await FlushAsync(multiplexer, runId);
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

    /// <summary>One Redis node as last seen: its process (<c>run_id</c>, primaries only) and its role.</summary>
    private sealed record RedisNode(string RunId, bool Primary);

    /// <summary>
    /// Every connected node's role, and each primary's <c>run_id</c>, which changes whenever its process restarts;
    /// also the primaries' run ids joined, which names the flush (once per set of processes).
    /// </summary>
    private static async Task<(string RunIds, Dictionary<string, RedisNode> Nodes)> ObserveAsync(IConnectionMultiplexer multiplexer)
    {
        var nodes = new Dictionary<string, RedisNode>(StringComparer.Ordinal);
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
                nodes[name] = new RedisNode(string.Empty, Primary: false);
                continue;
            }

            var info = await server.InfoRawAsync("server");
            var match = RunIdLine().Match(info ?? string.Empty);
            nodes[name] = new RedisNode(match.Success ? match.Groups[1].Value : name, Primary: true);
        }

        var ids = nodes.Values.Where(n => n.Primary).Select(n => n.RunId).Order(StringComparer.Ordinal);
        return (string.Join(",", ids), nodes);
    }

    /// <summary>
    /// A node known before now serves as a primary with data that may lack writes: its process restarted (new
    /// <c>run_id</c>: empty, or from an older snapshot), or it was a replica and got promoted (a cluster or
    /// Sentinel failover: asynchronous replication can lose the old primary's last writes). A node seen for the
    /// first time, or a primary come back as a replica, is none.
    /// </summary>
    private static bool Restarted(Dictionary<string, RedisNode> before, Dictionary<string, RedisNode> now) =>
        now.Any(n => n.Value.Primary && before.TryGetValue(n.Key, out var was) && (!was.Primary || !string.Equals(was.RunId, n.Value.RunId, StringComparison.Ordinal)));

    /// <summary>What is known now: the nodes seen this time, and the last view of those not connected right now.</summary>
    private static Dictionary<string, RedisNode> Merge(Dictionary<string, RedisNode>? before, Dictionary<string, RedisNode> now)
    {
        var merged = before is null ? new Dictionary<string, RedisNode>(StringComparer.Ordinal) : new Dictionary<string, RedisNode>(before, StringComparer.Ordinal);
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

    [GeneratedRegex(@"run_id:(\w+)")]
    private static partial Regex RunIdLine();

    [LoggerMessage(EventId = 3023, Level = LogLevel.Debug, Message = "Shared cache recovery check failed with {ExceptionType}; trying again in a second")]
    private static partial void LogTickFailed(ILogger logger, string exceptionType);

    [LoggerMessage(EventId = 3020, Level = LogLevel.Warning, Message = "Redis failed; writes may be missing from the shared cache until it answers again")]
    private static partial void LogSuspect(ILogger logger);

    [LoggerMessage(EventId = 3021, Level = LogLevel.Information, Message = "Redis answers again; the shared cache recovered (flushed: {Flushed})")]
    private static partial void LogRecovered(ILogger logger, bool flushed);

    [LoggerMessage(EventId = 3022, Level = LogLevel.Warning, Message = "Redis is a new process (restarted empty or from a snapshot): deleted {Count} cache entries")]
    private static partial void LogFlushed(ILogger logger, int count);
}

/// <summary>The memory level FusionCache uses, owned here so that a recovery can clear it.</summary>
internal sealed class CacheMemory(IOptions<CacheOptions> options) : IDisposable
{
    public Microsoft.Extensions.Caching.Memory.MemoryCache Cache { get; } =
        new(new Microsoft.Extensions.Caching.Memory.MemoryCacheOptions { SizeLimit = options.Value.MemoryMaxEntries });

    public void Clear() => Cache.Clear();

    public void Dispose() => Cache.Dispose();
}
