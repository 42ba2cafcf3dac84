using CustomerRecords.Api.Data;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Api.History;

/// <summary>
/// Keeps change-feed positions up with the writes when no follower is reading: every <c>History:SequenceInterval</c>
/// it numbers what is pending. Any instance may run it; the sequencer's row lock makes them take turns. A failure
/// is logged (its type only) and retried at the next tick; it never stops the host. A tick after which this instance
/// committed no change does not touch the database (an idle Aurora Serverless database may pause): another
/// instance's events are numbered by that instance, and every feed read numbers what is pending first anyway.
/// </summary>
internal sealed partial class FeedSequencerService(
    FeedSequencer sequencer, IOptions<HistoryOptions> options, TimeProvider clock, IWriteGate writeGate, WriteActivity activity, ILogger<FeedSequencerService> logger) : BackgroundService
{
    /// <summary>Batches per tick, each its own short transaction, so feed reads never wait long behind a backlog.</summary>
    private const int MaxBatchesPerTick = 100;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!writeGate.WritesAllowed)
        {
            return; // a read-only region: the primary region's instances number the events
        }

        using var timer = new PeriodicTimer(options.Value.SequenceInterval, clock);
        long? numberedAfter = null; // the first tick always runs: an earlier process may have left events pending
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var changes = activity.Changes;
            if (changes == numberedAfter)
            {
                continue;
            }

            try
            {
                for (var batch = 0; batch < MaxBatchesPerTick; batch++)
                {
                    if (await sequencer.SequenceAsync(maxBatches: 1, stoppingToken) < FeedSequencer.BatchSize)
                    {
                        break;
                    }
                }

                // Changes committed while this tick ran are newer than `changes`: the next tick numbers them.
                numberedAfter = changes;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogSequencingFailed(logger, e.GetType().Name, DbFailures.IsUnavailable(e));
            }
        }
    }

    [LoggerMessage(EventId = 1700, Level = LogLevel.Warning, Message = "Sequencing the change feed failed ({ExceptionType}, database unavailable: {Unavailable}); will try again at the next tick")]
    private static partial void LogSequencingFailed(ILogger logger, string exceptionType, bool unavailable);
}

/// <summary>
/// Deletes events older than <c>History:Retention</c> every <c>History:PurgeInterval</c>, in batches of at most
/// 1,000 by seq. Any number of instances may run it at once: a delete of what another already deleted deletes nothing.
/// Does nothing while the retention is unset.
/// </summary>
internal sealed partial class HistoryRetentionService(HistoryStore store, IOptions<HistoryOptions> options, TimeProvider clock, IWriteGate writeGate, ILogger<HistoryRetentionService> logger) : BackgroundService
{
    /// <summary>Batches per run at most; the next run goes on where this one stopped.</summary>
    private const int MaxBatchesPerRun = 1000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.Retention is not { } retention || !writeGate.WritesAllowed)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Value.PurgeInterval, clock);
        do
        {
            try
            {
                var purged = await PurgeAsync(store, retention, clock, stoppingToken);
                LogPurged(logger, purged);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogPurgeFailed(logger, e.GetType().Name);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One run: batches until no full batch is left; returns how many events were found expired.</summary>
    internal static async Task<int> PurgeAsync(HistoryStore store, TimeSpan retention, TimeProvider clock, CancellationToken ct)
    {
        var cutoff = StoredClock.Now(clock) - retention;
        var total = 0;
        for (var batch = 0; batch < MaxBatchesPerRun; batch++)
        {
            var found = await store.PurgeBatchAsync(cutoff, ct);
            total += found;
            if (found < HistoryStore.BatchSize)
            {
                break;
            }
        }

        return total;
    }

    [LoggerMessage(EventId = 1701, Level = LogLevel.Debug, Message = "Purged {Count} events past History:Retention")]
    private static partial void LogPurged(ILogger logger, int count);

    [LoggerMessage(EventId = 1702, Level = LogLevel.Warning, Message = "Purging events past History:Retention failed ({ExceptionType}); will try again at the next interval")]
    private static partial void LogPurgeFailed(ILogger logger, string exceptionType);
}
