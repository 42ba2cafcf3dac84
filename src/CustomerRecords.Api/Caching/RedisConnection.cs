using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace CustomerRecords.Api.Caching;

/// <summary>
/// The one Redis connection of this instance, shared by the L2 cache and the backplane. Connects in
/// the background (the service starts and serves from the database while Redis is away) and logs a
/// lost or restored connection once per change, not once per request.
/// </summary>
internal sealed partial class RedisConnection : IAsyncDisposable
{
    private static readonly TimeSpan TokenRetry = TimeSpan.FromSeconds(15);

    private readonly Lazy<Task<IConnectionMultiplexer>> _connection;
    private readonly ILogger<RedisConnection> _logger;
    private readonly RedisIamTokens? _iam;
    private readonly CancellationTokenSource _stopping = new();

    /// <param name="connectionString">StackExchange.Redis configuration (<c>ConnectionStrings:Redis</c>).</param>
    /// <param name="commandTimeout">Longest wait for any one command (<c>Cache:RedisHardTimeout</c>).</param>
    /// <param name="logger">Where connection changes are logged.</param>
    /// <param name="iam">ElastiCache IAM authentication (<c>Cache:IamAuthentication</c>), or null for the connection string's password.</param>
    /// <param name="caFile">A PEM CA certificate the server's TLS certificate must chain to (<c>Cache:RedisCaFile</c>), or null for the system's trust store.</param>
    public RedisConnection(string connectionString, TimeSpan commandTimeout, ILogger<RedisConnection> logger, RedisIamTokens? iam = null, string? caFile = null)
    {
        _logger = logger;
        _iam = iam;
        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(connectionString);
        }
        catch (ArgumentException)
        {
            throw new InvalidOperationException("ConnectionStrings:Redis is not a valid StackExchange.Redis configuration (host:port,ssl=true,...).");
        }

        if (!string.IsNullOrEmpty(caFile))
        {
            options.TrustIssuer(caFile);
        }

        // Never fail start-up for Redis, keep reconnecting, and keep any one command short.
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = Math.Min(options.ConnectTimeout, 2000);
        // FusionCache's hard timeout abandons cache reads and writes, but not a backplane publish: with
        // Redis hung, a write-through waited for this client timeout. Cap every command at the hard timeout.
        options.AsyncTimeout = Math.Min(options.AsyncTimeout, Math.Max((int)commandTimeout.TotalMilliseconds, 1));
        options.SyncTimeout = Math.Min(options.SyncTimeout, 2000);
        options.ConnectRetry = Math.Max(options.ConnectRetry, 1);

        // While disconnected, fail a command at once instead of queueing it until AsyncTimeout: the
        // cache falls back to memory and the database, and a queued command would hold the request
        // (a backplane publish is not cut short by FusionCache's timeouts) for the full 2 s.
        options.BacklogPolicy = BacklogPolicy.FailFast;

        // SharedCacheRecovery reads INFO (the server's run_id tells a restarted Redis) and scans the
        // deployment's keys; the client gates both behind admin mode. Nothing here flushes or reconfigures Redis.
        options.AllowAdmin = true;
        _connection = new Lazy<Task<IConnectionMultiplexer>>(() => ConnectAsync(options));
    }

    public Task<IConnectionMultiplexer> GetAsync() => _connection.Value;

    /// <summary>Raised when the command or the subscription connection is lost.</summary>
    public event Action? Lost;

    public bool IsConnected => _connection.IsValueCreated && _connection.Value.IsCompletedSuccessfully && _connection.Value.Result.IsConnected;

    private async Task<IConnectionMultiplexer> ConnectAsync(ConfigurationOptions options)
    {
        if (_iam is not null)
        {
            options.User = _iam.UserId;
            options.Password = await NewTokenAsync(_stopping.Token);
            _ = RefreshTokensAsync(options, _stopping.Token);
        }

        var multiplexer = await ConnectionMultiplexer.ConnectAsync(options);
        multiplexer.ConnectionFailed += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Interactive)
            {
                LogLost(_logger, e.FailureType.ToString());
            }

            // Either connection: commands or backplane messages may have been lost.
            Lost?.Invoke();
        };
        multiplexer.ConnectionRestored += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Interactive)
            {
                LogRestored(_logger);
            }
        };
        if (!multiplexer.IsConnected)
        {
            LogUnavailableAtStart(_logger);
            Lost?.Invoke();
        }

        return multiplexer;
    }

    /// <summary>A token, retried every 15 s until the credentials answer (Redis is unused meanwhile, as if unreachable).</summary>
    private async Task<string> NewTokenAsync(CancellationToken ct)
    {
        while (true)
        {
            try
            {
                var token = await _iam!.NewTokenAsync(ct);
                LogTokenMade(_logger);
                return token;
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                LogTokenFailed(_logger, e.GetType().Name);
                await Task.Delay(TokenRetry, ct);
            }
        }
    }

    /// <summary>
    /// StackExchange.Redis keeps (does not copy) the <see cref="ConfigurationOptions"/> it was given and reads the password
    /// at each (re)connect, so replacing it every <c>RefreshInterval</c> gives every reconnect a live token. Connections already
    /// authenticated stay so (ElastiCache ends them after 12 hours, and the reconnect then uses the current token).
    /// </summary>
    private async Task RefreshTokensAsync(ConfigurationOptions options, CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await Task.Delay(_iam!.RefreshInterval, ct);
                options.Password = await NewTokenAsync(ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _stopping.Dispose();
        if (_connection.IsValueCreated && _connection.Value.IsCompletedSuccessfully)
        {
            await _connection.Value.Result.DisposeAsync();
        }
    }

    [LoggerMessage(EventId = 3010, Level = LogLevel.Warning, Message = "Redis connection lost ({FailureType}); serving from memory and the database until it returns")]
    private static partial void LogLost(ILogger logger, string failureType);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Information, Message = "Redis connection restored; the shared cache is in use again")]
    private static partial void LogRestored(ILogger logger);

    [LoggerMessage(EventId = 3013, Level = LogLevel.Debug, Message = "New ElastiCache IAM token made for Redis (re)connections")]
    private static partial void LogTokenMade(ILogger logger);

    [LoggerMessage(EventId = 3014, Level = LogLevel.Warning, Message = "Could not make an ElastiCache IAM token ({ExceptionType}); retrying in 15 s")]
    private static partial void LogTokenFailed(ILogger logger, string exceptionType);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Warning, Message = "Redis is unreachable at start; serving from memory and the database, reconnecting in the background")]
    private static partial void LogUnavailableAtStart(ILogger logger);
}
