using System.Data;
using System.Data.Common;

namespace CustomerRecords.Api.Data;

/// <summary>How every write transaction starts.</summary>
internal static class DbTransactions
{
    /// <summary>
    /// Begins a transaction on <paramref name="connection"/>. A connection failure here is marked as
    /// <see cref="DbFailure.NotSent"/>: nothing of the write has reached the server yet (a failed BEGIN changes nothing,
    /// and the server rolls back whatever a broken connection left open), so the write may be retried on another
    /// connection. It is how a pooled connection the server has closed since its last use (a restart, a failover,
    /// <c>wait_timeout</c>) shows itself: pooled connections are not reset, nor pinged, when taken with Connection Reset=false.
    /// </summary>
    public static async Task<DbTransaction> BeginAsync(this DbConnection connection, IsolationLevel level, CancellationToken ct)
    {
        try
        {
            return await connection.BeginTransactionAsync(level, ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested && DbFailures.Classify(e) == DbFailure.OutcomeUnknown)
        {
            e.Data[DbFailures.NotSentMarker] = true;
            throw;
        }
    }

    /// <inheritdoc cref="BeginAsync(DbConnection, IsolationLevel, CancellationToken)"/>
    public static Task<DbTransaction> BeginAsync(this DbConnection connection, CancellationToken ct) =>
        connection.BeginAsync(IsolationLevel.Unspecified, ct);
}
