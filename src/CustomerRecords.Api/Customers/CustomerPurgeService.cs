using CustomerRecords.Api.Data;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Api.Customers;

/// <summary>
/// Removes for good the customers deleted longer ago than <see cref="CustomersOptions.RestoreWindow"/>, every
/// <see cref="CustomersOptions.PurgeInterval"/>, in batches. Every instance runs it; the batches lock their rows,
/// so two instances purging at once never remove a row twice or write two <c>purged</c> events for it.
/// </summary>
internal sealed partial class CustomerPurgeService(
    CustomerStore store, IOptions<CustomersOptions> options, TimeProvider clock, IWriteGate writeGate, ILogger<CustomerPurgeService> logger) : BackgroundService
{
    internal const int BatchSize = 500;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!writeGate.WritesAllowed)
        {
            return; // a read-only region: the primary region purges
        }

        using var timer = new PeriodicTimer(options.Value.PurgeInterval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var purged = await PurgeDueAsync(stoppingToken);
                if (purged > 0)
                {
                    LogPurged(logger, purged);
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Never worth stopping the host for: the rows wait for the next tick.
                LogPurgeFailed(logger, DbFailures.IsUnavailable(e) ? "database unavailable" : e.GetType().Name);
            }
        }
    }

    /// <summary>Purges every customer past the window, a batch at a time; answers how many.</summary>
    internal async Task<int> PurgeDueAsync(CancellationToken ct)
    {
        var cutoff = store.Now() - options.Value.RestoreWindow;
        var total = 0;
        int purged;
        do
        {
            purged = await store.PurgeDeletedAsync(cutoff, BatchSize, ct);
            total += purged;
        }
        while (purged == BatchSize && !ct.IsCancellationRequested);

        return total;
    }

    [LoggerMessage(EventId = 1310, Level = LogLevel.Information, Message = "Purged {Count} customers deleted longer ago than Customers:RestoreWindow")]
    private static partial void LogPurged(ILogger logger, int count);

    [LoggerMessage(EventId = 1311, Level = LogLevel.Warning, Message = "Purging deleted customers failed ({Reason}); will try again at the next Customers:PurgeInterval")]
    private static partial void LogPurgeFailed(ILogger logger, string reason);
}
