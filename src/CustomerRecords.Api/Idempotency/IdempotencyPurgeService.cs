using CustomerRecords.Api.Data;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Api.Idempotency;

/// <summary>Deletes idempotency answers past <see cref="DatabaseOptions.IdempotencyKeyLifetime"/>, hourly. Any instance may do it; the DELETE is idempotent.</summary>
internal sealed partial class IdempotencyPurgeService(IdempotencyStore store, IOptions<DatabaseOptions> options, IWriteGate writeGate, ILogger<IdempotencyPurgeService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!writeGate.WritesAllowed)
        {
            return; // a read-only region: the primary region purges
        }

        using var timer = new PeriodicTimer(TimeSpan.FromHours(1));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var purged = await store.PurgeAsync(options.Value.IdempotencyKeyLifetime, stoppingToken);
                LogPurged(logger, purged);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested && DbFailures.IsUnavailable(e))
            {
                LogPurgeFailed(logger);
            }
        }
    }

    [LoggerMessage(EventId = 1200, Level = LogLevel.Debug, Message = "Purged {Count} expired idempotency keys")]
    private static partial void LogPurged(ILogger logger, int count);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "Purging expired idempotency keys failed; will try again in an hour")]
    private static partial void LogPurgeFailed(ILogger logger);
}
