using System.Data.Common;
using CustomerRecords.Api.Customers;

namespace CustomerRecords.Api.Caching;

/// <summary>Runs the delayed repairs <see cref="CustomerCache"/> schedules after each write.</summary>
internal sealed partial class CacheRepairService(CustomerCache cache, CustomerStore store, ILogger<CacheRepairService> logger) : BackgroundService
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(100);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!cache.Enabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(Tick);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var id in cache.TakeDueRepairs())
            {
                try
                {
                    await cache.RefreshAsync(id, await store.GetFromWriterAsync(id, stoppingToken));
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested && IsUnavailable(e))
                {
                    // The database is down or hung (the data tier's timeout is a Polly exception, not a
                    // DbException). The entry may be the stale one the repair exists for: try again later.
                    LogRepairPostponed(logger, id);
                    cache.RetryRepair(id);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    // An exception escaping ExecuteAsync stops the whole host; a repair is not worth that.
                    LogRepairFailed(logger, id, e.GetType().Name);
                }
            }
        }
    }

    private static bool IsUnavailable(Exception e) =>
        e is DbException or TimeoutException or IOException or OperationCanceledException or Polly.Timeout.TimeoutRejectedException;

    [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "Cache repair of customer {Id} postponed: database unavailable")]
    private static partial void LogRepairPostponed(ILogger logger, int id);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Cache repair of customer {Id} failed with {ExceptionType}; the entry keeps its cached value")]
    private static partial void LogRepairFailed(ILogger logger, int id, string exceptionType);
}
