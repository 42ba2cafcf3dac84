using System.Threading.RateLimiting;
using CustomerRecords.Api.Caching;
using RedisRateLimiting;
using StackExchange.Redis;

namespace CustomerRecords.Api.Hosting;

/// <summary>
/// What every client's <see cref="SharedRateLimiter"/> of one instance shares: the Redis connection, the limits,
/// and whether Redis is failing right now (so an outage is logged once, not per client or per request, and a
/// failing Redis is not asked again by every request for a second).
/// </summary>
internal sealed partial class SharedRateLimitState(RedisConnection redis, string keyPrefix, RateLimitOptions limits, TimeProvider clock, ILogger logger)
{
    /// <summary>After a failure, count locally this long before asking Redis again.</summary>
    internal static readonly TimeSpan RetryRedisAfter = TimeSpan.FromSeconds(1);

    private readonly Lock _gate = new();
    private bool _failing;
    private long _retryAt;

    public RedisConnection Redis { get; } = redis;

    public RateLimitOptions Limits { get; } = limits;

    /// <summary>
    /// The partition as Redis sees it. RedisRateLimiting stores <c>rl:fw:{partition}</c> and <c>rl:fw:{partition}:exp</c>:
    /// the braces are a cluster hash tag, so both keys of one client always live in one slot. The deployment's
    /// key prefix keeps deployments sharing a Redis apart; '|' keeps the keys out of the cache's <c>{prefix}:</c> namespace.
    /// </summary>
    public string RedisPartition(string partitionKey) => keyPrefix + "|" + partitionKey;

    /// <summary>True while Redis failed less than <see cref="RetryRedisAfter"/> ago or the connection is down.</summary>
    public bool UseLocal
    {
        get
        {
            if (!Redis.IsConnected)
            {
                return true;
            }

            lock (_gate)
            {
                return _failing && clock.GetTimestamp() < _retryAt;
            }
        }
    }

    public void Failed(Exception e)
    {
        bool first;
        lock (_gate)
        {
            first = !_failing;
            _failing = true;
            _retryAt = clock.GetTimestamp() + (long)(RetryRedisAfter.TotalSeconds * clock.TimestampFrequency);
        }

        if (first)
        {
            LogFallback(logger, e.GetType().Name);
        }
    }

    public void Succeeded()
    {
        bool recovered;
        lock (_gate)
        {
            recovered = _failing;
            _failing = false;
        }

        if (recovered)
        {
            LogShared(logger);
        }
    }

    // No partition key in either message: it may be a client's IP address.
    [LoggerMessage(EventId = 7005, Level = LogLevel.Warning, Message = "Rate limits cannot be counted in Redis ({ExceptionType}); each instance counts on its own until Redis answers")]
    private static partial void LogFallback(ILogger logger, string exceptionType);

    [LoggerMessage(EventId = 7006, Level = LogLevel.Information, Message = "Redis answers again; rate limits are shared by all instances again")]
    private static partial void LogShared(ILogger logger);
}

/// <summary>
/// One client's limiter with <c>RateLimit:Store=Redis</c>: RedisRateLimiting's fixed window counted in Redis, shared
/// by every instance. While Redis fails (connection lost, timeout, refused command) the permit comes from this
/// instance's own fixed window instead — the limit then applies per instance, never not at all, and no request fails
/// because of Redis.
/// </summary>
internal sealed class SharedRateLimiter : RateLimiter
{
    private static readonly RateLimitLease TryAsync = new NotAcquired();

    private readonly string _partition;
    private readonly SharedRateLimitState _shared;
    private readonly FixedWindowRateLimiter _local;
    private RedisFixedWindowRateLimiter<string>? _redis;

    public SharedRateLimiter(string partitionKey, SharedRateLimitState shared)
    {
        _partition = shared.RedisPartition(partitionKey);
        _shared = shared;
        _local = new FixedWindowRateLimiter(new FixedWindowRateLimiterOptions
        {
            PermitLimit = shared.Limits.PermitLimit,
            Window = shared.Limits.Window,
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    }

    /// <summary>The local window's: the Redis counter lives in Redis, so dropping an idle limiter loses nothing shared.</summary>
    public override TimeSpan? IdleDuration => _local.IdleDuration;

    public override RateLimiterStatistics? GetStatistics() => _local.GetStatistics();

    protected override RateLimitLease AttemptAcquireCore(int permitCount) =>
        // Redis is only asked asynchronously: a not-acquired lease sends the middleware to AcquireAsync.
        _shared.UseLocal ? _local.AttemptAcquire(permitCount) : TryAsync;

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        if (!_shared.UseLocal)
        {
            try
            {
                _redis ??= await CreateRedisLimiterAsync();
                var lease = await _redis.AcquireAsync(permitCount, cancellationToken);
                _shared.Succeeded();
                return new RedisLease(lease);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // Any failure on the Redis path (connection lost, timeout, a command cancelled when the client
                // drops a hung connection, a reply it cannot read) counts locally instead: a limiter never fails
                // a request. The failure's type is logged once per outage.
                _shared.Failed(e);
            }
        }

        return await _local.AcquireAsync(permitCount, cancellationToken);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _local.Dispose();
            _redis?.Dispose();
        }

        base.Dispose(disposing);
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        await _local.DisposeAsync();
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }

        await base.DisposeAsyncCore();
    }

    private async Task<RedisFixedWindowRateLimiter<string>> CreateRedisLimiterAsync()
    {
        var multiplexer = await _shared.Redis.GetAsync();
        return new RedisFixedWindowRateLimiter<string>(_partition, new RedisFixedWindowRateLimiterOptions
        {
            PermitLimit = _shared.Limits.PermitLimit,
            Window = _shared.Limits.Window,
            ConnectionMultiplexerFactory = () => multiplexer,
        });
    }

    private sealed class NotAcquired : RateLimitLease
    {
        public override bool IsAcquired => false;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }

    /// <summary>RedisRateLimiting's lease, with its retry-after (whole seconds) under the name ASP.NET Core reads.</summary>
    private sealed class RedisLease(RateLimitLease inner) : RateLimitLease
    {
        public override bool IsAcquired => inner.IsAcquired;

        public override IEnumerable<string> MetadataNames => [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            if (metadataName == MetadataName.RetryAfter.Name
                && inner.TryGetMetadata(RateLimitMetadataName.RetryAfter.Name, out var seconds) && seconds is int s)
            {
                metadata = TimeSpan.FromSeconds(Math.Max(1, s));
                return true;
            }

            metadata = null;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
