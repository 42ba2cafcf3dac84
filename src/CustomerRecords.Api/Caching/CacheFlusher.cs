using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace CustomerRecords.Api.Caching;

/// <summary>The <c>Cache</c> section's setting for a start after a database restore.</summary>
internal sealed class CacheFlushOptions
{
    /// <summary>
    /// Delete this deployment's keys (<c>Cache:KeyPrefix</c>) from Redis once at start-up, before the server accepts
    /// requests: after the database was restored from a backup or snapshot, Redis holds rows newer than the database
    /// and would serve them. Guarded: instances starting within <see cref="CacheFlusher.StartGuard"/> of the first
    /// flush skip theirs. Redis mode only; a Redis that does not answer at start stops start-up (serving would risk
    /// the stale rows). The <c>flush-cache</c> command does the same on demand.
    /// </summary>
    public bool FlushOnStart { get; set; }
}

/// <summary>
/// Deletes a deployment's cache keys from Redis: SCAN of every primary for <c>*{prefix}:*</c>, keeping keys that are
/// the deployment's (<c>{prefix}:...</c>, or FusionCache's <c>v{n}:{prefix}:...</c>), and UNLINK of each (one key per
/// command, so a cluster routes each to its slot). Other deployments' keys are left alone.
/// </summary>
internal sealed partial class CacheFlusher(IServiceProvider services, IOptions<CacheOptions> options, IOptions<CacheFlushOptions> flush, ILogger<CacheFlusher> logger) : IHostedService
{
    /// <summary>How long after one instance's start-up flush other instances' start-up flushes are skipped.</summary>
    public static readonly TimeSpan StartGuard = TimeSpan.FromMinutes(1);

    /// <summary>How long start-up waits for Redis to answer before the flush it cannot do stops it.</summary>
    private static readonly TimeSpan ConnectWait = TimeSpan.FromSeconds(15);

    /// <summary>Flushes the deployment's keys now; returns how many were deleted.</summary>
    public async Task<long> FlushAsync(CancellationToken ct)
    {
        var multiplexer = await ConnectedAsync(ct);
        var prefix = options.Value.KeyPrefix;
        var ours = new Regex($"^(?:v\\d+:)?{Regex.Escape(prefix)}:", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        var database = multiplexer.GetDatabase();
        long deleted = 0;
        foreach (var endpoint in multiplexer.GetEndPoints())
        {
            var server = multiplexer.GetServer(endpoint);
            if (!server.IsConnected || server.IsReplica)
            {
                continue;
            }

            var batch = new List<Task<RedisResult>>(256);
            await foreach (var key in server.KeysAsync(pattern: $"*{prefix}:*", pageSize: 1000).WithCancellation(ct))
            {
                if (ours.IsMatch(key.ToString()))
                {
                    batch.Add(database.ExecuteAsync("UNLINK", [key]));
                }

                if (batch.Count == 256)
                {
                    deleted += await CountAsync(batch);
                }
            }

            deleted += await CountAsync(batch);
        }

        LogFlushed(logger, deleted, prefix);
        return deleted;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!flush.Value.FlushOnStart || options.Value.Mode != CacheMode.Redis)
        {
            return;
        }

        var multiplexer = await ConnectedAsync(cancellationToken);
        var guard = $"flush-on-start|{options.Value.KeyPrefix}";
        if (!await multiplexer.GetDatabase().StringSetAsync(guard, DateTimeOffset.UtcNow.ToString("O"), StartGuard, When.NotExists))
        {
            LogSkipped(logger, StartGuard.TotalSeconds);
            return;
        }

        try
        {
            await FlushAsync(cancellationToken);
        }
        catch
        {
            // Not flushed after all: the next instance to start must not skip its flush.
            await multiplexer.GetDatabase().KeyDeleteAsync(guard);
            throw;
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task<IConnectionMultiplexer> ConnectedAsync(CancellationToken ct)
    {
        // Resolved here, not injected: outside Redis mode there is no Redis connection to make.
        var multiplexer = await services.GetRequiredService<RedisConnection>().GetAsync().WaitAsync(ct);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
        wait.CancelAfter(ConnectWait);
        while (!multiplexer.IsConnected)
        {
            try
            {
                await Task.Delay(200, wait.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new InvalidOperationException(
                    $"Cache:FlushOnStart (or flush-cache) needs Redis, and Redis did not answer within {ConnectWait.TotalSeconds:0} s: check ConnectionStrings:Redis.");
            }
        }

        return multiplexer;
    }

    private static async Task<long> CountAsync(List<Task<RedisResult>> batch)
    {
        long count = 0;
        foreach (var result in await Task.WhenAll(batch))
        {
            count += (long)result;
        }

        batch.Clear();
        return count;
    }

    [LoggerMessage(EventId = 3030, Level = LogLevel.Warning, Message = "Flushed {Count} cache entries of prefix {Prefix} from Redis")]
    private static partial void LogFlushed(ILogger logger, long count, string prefix);

    [LoggerMessage(EventId = 3031, Level = LogLevel.Information, Message = "Cache:FlushOnStart: another instance flushed the cache less than {Seconds} s ago; not flushing again")]
    private static partial void LogSkipped(ILogger logger, double seconds);
}

internal static class CacheFlushExtensions
{
    /// <summary><c>Cache:FlushOnStart</c> and the <c>flush-cache</c> command's flusher.</summary>
    public static IServiceCollection AddCacheFlush(this IServiceCollection services)
    {
        services.AddOptions<CacheFlushOptions>().BindConfiguration(CacheOptions.Section);
        services.AddSingleton<CacheFlusher>();
        services.AddHostedService(sp => sp.GetRequiredService<CacheFlusher>());
        return services;
    }
}
