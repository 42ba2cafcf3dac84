using System.Data.Common;
using Microsoft.Data.Sqlite;
using MySqlConnector;

namespace CustomerRecords.Api.Data;

/// <summary>What a database failure means for retrying the operation that met it.</summary>
internal enum DbFailure
{
    /// <summary>Not a passing fault (bad SQL, constraint, access denied): retrying gives the same answer.</summary>
    Permanent,

    /// <summary>Nothing reached the server (no connection, too many connections, pool exhausted): any operation may retry.</summary>
    NotSent,

    /// <summary>The server refused the statement because it is read-only (a demoted writer after failover): not applied; clear the pool, then retry.</summary>
    ReadOnly,

    /// <summary>The server rolled the statement or transaction back (deadlock, lock wait timeout, busy file): not applied; retry.</summary>
    RolledBack,

    /// <summary>The connection broke or timed out after the statement was sent: it may or may not have been applied. Only reads may retry.</summary>
    OutcomeUnknown,
}

/// <summary>The one place that classifies database errors, for every engine.</summary>
internal static class DbFailures
{
    /// <summary>Set on an exception that happened before any statement was sent on its connection.</summary>
    public const string NotSentMarker = "customer-records.not-sent";

    public static DbFailure Classify(Exception exception)
    {
        if (exception.Data.Contains(NotSentMarker))
        {
            return DbFailure.NotSent;
        }

        return exception switch
        {
            MySqlException mysql => Classify(mysql),
            SqliteException { SqliteErrorCode: 5 or 6 } => DbFailure.RolledBack, // SQLITE_BUSY / SQLITE_LOCKED
            TimeoutException or System.IO.IOException or System.Net.Sockets.SocketException => DbFailure.OutcomeUnknown,
            OperationCanceledException => DbFailure.OutcomeUnknown,
            DbException { InnerException: System.IO.IOException or System.Net.Sockets.SocketException } => DbFailure.OutcomeUnknown,
            _ => DbFailure.Permanent,
        };
    }

    private static DbFailure Classify(MySqlException exception) => (int)exception.ErrorCode switch
    {
        1040 or 1203 => DbFailure.NotSent,                          // too many connections (server / per user)
        (int)MySqlErrorCode.UnableToConnectToHost => DbFailure.NotSent, // connect failed, incl. pool wait timeout
        1290 or 1836 or 1792 => DbFailure.ReadOnly,                 // --read-only, read-only mode, read-only transaction
        1213 or 1205 => DbFailure.RolledBack,                       // deadlock, lock wait timeout
        2006 or 2013 or 1053 or 1927 => DbFailure.OutcomeUnknown,   // gone away, lost connection, shutdown, killed
        (int)MySqlErrorCode.CommandTimeoutExpired or (int)MySqlErrorCode.QueryInterrupted => DbFailure.OutcomeUnknown,
        _ when exception.InnerException is System.IO.IOException or System.Net.Sockets.SocketException => DbFailure.OutcomeUnknown,
        _ when exception.IsTransient => DbFailure.OutcomeUnknown,
        _ => DbFailure.Permanent,
    };

    /// <summary>Whether an operation may run again after <paramref name="failure"/>: reads always when transient, writes only when nothing was applied.</summary>
    public static bool MayRetry(DbFailure failure, bool idempotent) => failure switch
    {
        DbFailure.NotSent or DbFailure.ReadOnly or DbFailure.RolledBack => true,
        DbFailure.OutcomeUnknown => idempotent,
        _ => false,
    };

    /// <summary>True for failures that say the database (not the request) is the problem: answered 503.</summary>
    public static bool IsUnavailable(Exception exception) => Classify(exception) != DbFailure.Permanent;
}
