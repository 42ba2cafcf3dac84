using System.Data.Common;
using System.Globalization;
using System.Text;
using CustomerRecords.Api.Data;

namespace CustomerRecords.Api.History;

/// <summary>
/// Gives committed events their change-feed <c>position</c>, one sequencer at a time across every instance.
/// </summary>
/// <remarks>
/// <c>seq</c> is handed out at INSERT, but concurrent transactions commit in any order: a follower reading
/// <c>seq &gt; cursor</c> would skip an event whose transaction commits after a later seq was read. Positions
/// are given after commit instead. In one transaction (READ COMMITTED on MySQL; SQLite's write transactions are
/// serial) the sequencer locks <c>feed_state</c>'s row, reads the committed events that have no position yet
/// with a plain read, numbers them from <c>last_position + 1</c> in seq order with one UPDATE and moves
/// <c>last_position</c> on. Batches commit one after another under the lock, so any read of the feed that sees
/// a position sees every lower one, and an event that commits late simply gets a later position. Safe to run
/// anywhere and any time: a retry after an unknown outcome numbers only what is still unnumbered.
/// </remarks>
internal sealed class FeedSequencer(ResilientDb db) : IDisposable
{
    /// <summary>Events numbered per transaction.</summary>
    public const int BatchSize = 1000;

    /// <summary>Leads every statement of the sequencer, so that it can be told apart from request work in the server's and the driver's traces.</summary>
    public const string Tag = "/* feed-sequencer */ ";

    private const string AnyPending = Tag + "SELECT seq FROM customer_events WHERE position IS NULL LIMIT 1";

    private const string SelectPending = Tag + "SELECT seq FROM customer_events WHERE position IS NULL ORDER BY seq LIMIT @limit";

    private const string Advance = Tag + "UPDATE feed_state SET last_position = @last WHERE id = 1";

    private readonly string _lockState = Tag + "SELECT last_position FROM feed_state WHERE id = 1" + db.Dialect.ForUpdate;

    // One sequencing at a time in this process: concurrent feed reads wait for it rather than queue on the row lock.
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Numbers pending events, at most <paramref name="maxBatches"/> batches; returns how many it numbered.</summary>
    public async Task<int> SequenceAsync(int maxBatches, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var total = 0;
            for (var batch = 0; batch < maxBatches; batch++)
            {
                var numbered = await db.WriteAsync(SequenceBatchAsync, ct, idempotent: true);
                total += numbered;
                if (numbered < BatchSize)
                {
                    break;
                }
            }

            return total;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<int> SequenceBatchAsync(DbConnection connection, CancellationToken ct)
    {
        // Nothing pending (the usual case of a feed read): no lock taken.
        await using (var probe = connection.CreateCommand(AnyPending))
        {
            if (await probe.ExecuteScalarAsync(ct) is null or DBNull)
            {
                return 0;
            }
        }

        await using var transaction = await connection.BeginAsync(db.Dialect.LockThenReadIsolation, ct);
        long last;
        await using (var lockState = connection.CreateCommand(_lockState, transaction))
        {
            last = Convert.ToInt64(await lockState.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
        }

        // A plain (non-locking) read after the lock: every event committed by now, none that is still in flight.
        var pending = new List<long>(BatchSize);
        await using (var select = connection.CreateCommand(SelectPending, transaction).With("@limit", BatchSize))
        await using (var reader = await select.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                pending.Add(reader.GetInt64(0));
            }
        }

        if (pending.Count == 0)
        {
            await transaction.CommitAsync(ct);
            return 0;
        }

        await using (var number = connection.CreateCommand(NumberingSql(pending, last), transaction))
        {
            await number.ExecuteNonQueryAsync(ct);
        }

        await using (var advance = connection.CreateCommand(Advance, transaction).With("@last", last + pending.Count))
        {
            await advance.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
        return pending.Count;
    }

    public void Dispose() => _gate.Dispose();

    /// <summary>One UPDATE numbering <paramref name="seqs"/> (ascending) from <paramref name="last"/> + 1; the numbers are our own longs, not input.</summary>
    internal static string NumberingSql(IReadOnlyList<long> seqs, long last)
    {
        var sql = new StringBuilder(Tag + "UPDATE customer_events SET position = CASE seq");
        for (var i = 0; i < seqs.Count; i++)
        {
            sql.Append(CultureInfo.InvariantCulture, $" WHEN {seqs[i]} THEN {last + 1 + i}");
        }

        sql.Append(" END WHERE seq IN (").AppendJoin(',', seqs.Select(s => s.ToString(CultureInfo.InvariantCulture))).Append(") AND position IS NULL");
        return sql.ToString();
    }
}
