using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace CustomerRecords.Api.Caching;

/// <summary>
/// A small memcached client (text protocol) for the shared cache in <see cref="CacheMode.Memcached"/>: one bounded
/// pool of TCP connections per server, every operation bounded by one timeout (connect, send and reply), and a
/// key always sent to the same server (a stable hash of the key over the configured list). A connection that
/// failed in any way is closed, never returned to the pool. Keys memcached would refuse (over 250 bytes,
/// spaces, control or non-ASCII characters) are sent as <c>sha256:</c> and the key's SHA-256 in hex.
/// The server list is fixed: ElastiCache's auto discovery (<c>config get cluster</c>) is not used.
/// </summary>
internal sealed partial class MemcachedClient : IAsyncDisposable
{
    private readonly MemcachedNode[] _nodes;
    private readonly TimeProvider _clock;

    /// <param name="servers">The servers, in configuration order (the order decides which server holds a key).</param>
    /// <param name="poolSize">Most open connections per server.</param>
    /// <param name="timeout">Longest any one operation may take, waiting for a pooled connection included.</param>
    /// <param name="clock">For absolute expiry times.</param>
    /// <param name="logger">Where a server going away or coming back is logged, once per change.</param>
    public MemcachedClient(IReadOnlyList<DnsEndPoint> servers, int poolSize, TimeSpan timeout, TimeProvider clock, ILogger<MemcachedClient> logger)
    {
        ArgumentOutOfRangeException.ThrowIfZero(servers.Count);
        ArgumentOutOfRangeException.ThrowIfLessThan(poolSize, 1);
        _nodes = [.. servers.Select(s => new MemcachedNode(s, poolSize, timeout, logger))];
        _clock = clock;
    }

    /// <summary>Raised when an operation or a probe fails: writes may have been lost.</summary>
    public event Action? Faulted;

    /// <summary>True when the last operation on every server succeeded (or none was tried yet).</summary>
    public bool IsAvailable => _nodes.All(n => n.Available);

    public IReadOnlyList<DnsEndPoint> Servers => [.. _nodes.Select(n => n.EndPoint)];

    /// <summary>Parses <c>host:port,host:port</c> (port 11211 when left out; IPv6 as <c>[::1]:11211</c>).</summary>
    public static bool TryParseServers(string? value, out List<DnsEndPoint> servers, out string? error)
    {
        servers = [];
        error = null;
        if (string.IsNullOrWhiteSpace(value))
        {
            error = "ConnectionStrings:Memcached is empty.";
            return false;
        }

        foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string host;
            var port = 11211;
            var portText = (string?)null;
            if (part.StartsWith('['))
            {
                var close = part.IndexOf(']', StringComparison.Ordinal);
                if (close < 0 || (close + 1 < part.Length && part[close + 1] != ':'))
                {
                    error = "ConnectionStrings:Memcached has a malformed [IPv6]:port entry.";
                    return false;
                }

                host = part[1..close];
                portText = close + 2 <= part.Length - 1 ? part[(close + 2)..] : null;
            }
            else
            {
                var colon = part.LastIndexOf(':');
                host = colon < 0 ? part : part[..colon];
                portText = colon < 0 ? null : part[(colon + 1)..];
            }

            if (portText is not null && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
            {
                error = "ConnectionStrings:Memcached has an entry whose port is not 1-65535 (expected host:port,host:port).";
                return false;
            }

            if (host.Length == 0 || Uri.CheckHostName(host) == UriHostNameType.Unknown)
            {
                error = "ConnectionStrings:Memcached has an entry that is not a host name or address (expected host:port,host:port).";
                return false;
            }

            servers.Add(new DnsEndPoint(host, port));
        }

        if (servers.Count == 0)
        {
            error = "ConnectionStrings:Memcached lists no server (expected host:port,host:port).";
            return false;
        }

        return true;
    }

    /// <summary>The key as sent to memcached: itself when memcached accepts it, else <c>sha256:</c> and its SHA-256 in hex.</summary>
    public static string WireKey(string key) =>
        MemcachedConnection.IsValidKey(key) && !key.StartsWith("sha256:", StringComparison.Ordinal)
            ? key
            : "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>Which of <paramref name="servers"/> servers holds <paramref name="wireKey"/>: jump consistent hash of its FNV-1a hash, so adding a server moves only about 1/n of the keys.</summary>
    public static int ServerIndex(string wireKey, int servers)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in wireKey)
        {
            // Wire keys are ASCII.
            hash = (hash ^ c) * 1099511628211UL;
        }

        // Lamping & Veach, "A Fast, Minimal Memory, Consistent Hash Algorithm".
        long bucket = -1, next = 0;
        while (next < servers)
        {
            bucket = next;
            hash = (hash * 2862933555777941757UL) + 1;
            next = (long)((bucket + 1) * ((double)(1L << 31) / ((hash >> 33) + 1)));
        }

        return (int)bucket;
    }

    public Task<MemcachedItem?> GetsAsync(string key, CancellationToken ct = default) =>
        RunAsync(key, (c, k, token) => c.GetsAsync(k, token), ct);

    public Task<MemcachedStoreResult> SetAsync(string key, uint flags, TimeSpan? timeToLive, ReadOnlyMemory<byte> value, CancellationToken ct = default) =>
        RunAsync(key, (c, k, token) => c.SetAsync(k, flags, Expiry(timeToLive), value, token), ct);

    public Task<MemcachedStoreResult> AddAsync(string key, uint flags, TimeSpan? timeToLive, ReadOnlyMemory<byte> value, CancellationToken ct = default) =>
        RunAsync(key, (c, k, token) => c.AddAsync(k, flags, Expiry(timeToLive), value, token), ct);

    public Task<MemcachedStoreResult> CasAsync(string key, uint flags, TimeSpan? timeToLive, ReadOnlyMemory<byte> value, ulong cas, CancellationToken ct = default) =>
        RunAsync(key, (c, k, token) => c.CasAsync(k, flags, Expiry(timeToLive), value, cas, token), ct);

    public Task<bool> DeleteAsync(string key, CancellationToken ct = default) =>
        RunAsync(key, (c, k, token) => c.DeleteAsync(k, token), ct);

    /// <summary>
    /// One identity per server that changes whenever that server restarts (its pid and start time, from <c>stats</c>);
    /// throws when any server does not answer.
    /// </summary>
    public async Task<string> IdentityAsync(CancellationToken ct = default) =>
        string.Join(",", (await ProcessesAsync(ct)).Select(p => $"{p.Key}={p.Value}"));

    /// <summary>
    /// Each server (<c>host:port</c>, in configuration order) with its process (<c>pid@start time</c>, from <c>stats</c>),
    /// which changes whenever that server restarts; throws when any server does not answer.
    /// </summary>
    public async Task<IReadOnlyList<KeyValuePair<string, string>>> ProcessesAsync(CancellationToken ct = default) =>
        await Task.WhenAll(_nodes.Select(node => Watch(node.RunAsync(async (c, token) =>
        {
            var stats = await c.StatsAsync(token);
            var pid = stats.GetValueOrDefault("pid", "?");
            var started = long.TryParse(stats.GetValueOrDefault("time"), CultureInfo.InvariantCulture, out var time)
                && long.TryParse(stats.GetValueOrDefault("uptime"), CultureInfo.InvariantCulture, out var uptime)
                ? (time - uptime).ToString(CultureInfo.InvariantCulture)
                : "?";
            return KeyValuePair.Create(
                string.Create(CultureInfo.InvariantCulture, $"{node.EndPoint.Host}:{node.EndPoint.Port}"),
                string.Create(CultureInfo.InvariantCulture, $"{pid}@{started}"));
        }, ct))));

    /// <summary><c>version</c> on every server: a round trip that proves each answers.</summary>
    public Task PingAsync(CancellationToken ct = default) =>
        Task.WhenAll(_nodes.Select(node => Watch(node.RunAsync((c, token) => c.VersionAsync(token), ct))));

    /// <summary><c>flush_all</c> on every server: all of its items, whoever wrote them, are gone.</summary>
    public Task FlushAllAsync(CancellationToken ct = default) =>
        Task.WhenAll(_nodes.Select(node => Watch(node.RunAsync(async (c, token) =>
        {
            await c.FlushAllAsync(token);
            return true;
        }, ct))));

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }

    private int Expiry(TimeSpan? timeToLive) => MemcachedConnection.Expiry(timeToLive, _clock.GetUtcNow());

    private Task<T> RunAsync<T>(string key, Func<MemcachedConnection, string, CancellationToken, Task<T>> operation, CancellationToken ct)
    {
        var wireKey = WireKey(key);
        var node = _nodes.Length == 1 ? _nodes[0] : _nodes[ServerIndex(wireKey, _nodes.Length)];
        return Watch(node.RunAsync((c, token) => operation(c, wireKey, token), ct));
    }

    private async Task<T> Watch<T>(Task<T> operation)
    {
        try
        {
            return await operation;
        }
        catch (Exception e) when (e is not ArgumentException)
        {
            Faulted?.Invoke();
            throw;
        }
    }

    /// <summary>One server: a bounded pool of idle connections and a count of the ones in use.</summary>
    private sealed partial class MemcachedNode(DnsEndPoint endPoint, int poolSize, TimeSpan timeout, ILogger logger) : IAsyncDisposable
    {
        private readonly SemaphoreSlim _slots = new(poolSize, poolSize);
        private readonly ConcurrentBag<MemcachedConnection> _idle = [];
        private volatile bool _available = true;
        private bool _disposed;

        public DnsEndPoint EndPoint { get; } = endPoint;

        public bool Available => _available;

        public async Task<T> RunAsync<T>(Func<MemcachedConnection, CancellationToken, Task<T>> operation, CancellationToken ct)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(timeout);
            if (!await _slots.WaitAsync(timeout, ct))
            {
                // Every connection is busy for a whole timeout: the server is hung or far too slow.
                var exhausted = new TimeoutException("No pooled memcached connection became free within the timeout.");
                MarkUnavailable(exhausted);
                throw exhausted;
            }

            MemcachedConnection? connection = null;
            try
            {
                connection = _idle.TryTake(out var idle) ? idle : await ConnectAsync(deadline.Token);
                var result = await operation(connection, deadline.Token);
                _idle.Add(connection);
                connection = null;
                MarkAvailable();
                return result;
            }
            catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
            {
                await FailedAsync(e);
                throw new TimeoutException("memcached did not answer within the timeout.", e);
            }
            catch (Exception e) when (e is not ArgumentException && !(e is OperationCanceledException && ct.IsCancellationRequested))
            {
                await FailedAsync(e);
                throw;
            }
            finally
            {
                if (connection is not null)
                {
                    // Broken, timed out or out of step: never back to the pool.
                    await connection.DisposeAsync();
                }

                _slots.Release();
            }
        }

        public async ValueTask DisposeAsync()
        {
            _disposed = true;
            while (_idle.TryTake(out var connection))
            {
                await connection.DisposeAsync();
            }
        }

        private async Task<MemcachedConnection> ConnectAsync(CancellationToken ct)
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(EndPoint, ct);
                return new MemcachedConnection(new NetworkStream(socket, ownsSocket: true));
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        /// <summary>
        /// The idle connections were opened before this failure and are most likely broken too (a restarted or
        /// unreachable server): close them all, so that the next operation after a recovery opens a fresh one.
        /// </summary>
        private async Task FailedAsync(Exception e)
        {
            MarkUnavailable(e);
            while (_idle.TryTake(out var idle))
            {
                await idle.DisposeAsync();
            }
        }

        private void MarkAvailable()
        {
            if (!_available)
            {
                _available = true;
                LogBack(logger, EndPoint.Host, EndPoint.Port);
            }
        }

        private void MarkUnavailable(Exception e)
        {
            if (_available)
            {
                _available = false;
                LogLost(logger, EndPoint.Host, EndPoint.Port, e.GetType().Name);
            }
        }

        [LoggerMessage(EventId = 3030, Level = LogLevel.Warning, Message = "memcached {Host}:{Port} failed ({ExceptionType}); serving from memory and the database until it answers again")]
        private static partial void LogLost(ILogger logger, string host, int port, string exceptionType);

        [LoggerMessage(EventId = 3031, Level = LogLevel.Information, Message = "memcached {Host}:{Port} answers again; the shared cache is in use again")]
        private static partial void LogBack(ILogger logger, string host, int port);
    }
}
