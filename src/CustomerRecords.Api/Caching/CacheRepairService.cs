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
                catch (DbException)
                {
                    // The database is down: the entry keeps its TTL-bounded value; nothing better is known.
                    LogRepairSkipped(logger, id);
                }
            }
        }
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "Cache repair of customer {Id} skipped: database unavailable")]
    private static partial void LogRepairSkipped(ILogger logger, int id);
}
