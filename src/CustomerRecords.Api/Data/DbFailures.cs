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

    private const int SqliteBusy = 5;   // SQLITE_BUSY: another connection holds the write lock
    private const int SqliteLocked = 6; // SQLITE_LOCKED: a conflict within this connection's own statements

    public static DbFailure Classify(Exception exception)
    {
        if (exception.Data.Contains(NotSentMarker))
        {
            return DbFailure.NotSent;
        }

        return exception switch
        {
            MySqlException mysql => Classify(mysql),
            SqliteException { SqliteErrorCode: SqliteBusy or SqliteLocked } => DbFailure.RolledBack,
            TimeoutException or System.IO.IOException or System.Net.Sockets.SocketException => DbFailure.OutcomeUnknown,
            OperationCanceledException => DbFailure.OutcomeUnknown,
            DbException { InnerException: System.IO.IOException or System.Net.Sockets.SocketException } => DbFailure.OutcomeUnknown,
            _ => DbFailure.Permanent,
        };
    }

    /// <summary>Error numbers the driver's <see cref="MySqlErrorCode"/> does not name (client errors, MariaDB-only codes).</summary>
    internal static class MySqlErrorNumbers
    {
        /// <summary>ER_READ_ONLY_MODE: the server is in read-only mode (Aurora reader, demoted writer).</summary>
        public const int ReadOnlyMode = 1836;

        /// <summary>CR_SERVER_GONE_ERROR: the server closed the connection.</summary>
        public const int ServerGone = 2006;

        /// <summary>CR_SERVER_LOST: the connection was lost during a query.</summary>
        public const int ServerLost = 2013;

        /// <summary>ER_CONNECTION_KILLED (MariaDB): the connection was killed.</summary>
        public const int ConnectionKilled = 1927;
    }

    private static DbFailure Classify(MySqlException exception) => (int)exception.ErrorCode switch
    {
        (int)MySqlErrorCode.ConnectionCountError or (int)MySqlErrorCode.TooManyUserConnections => DbFailure.NotSent,
        (int)MySqlErrorCode.UnableToConnectToHost => DbFailure.NotSent, // connect failed, incl. pool wait timeout
        (int)MySqlErrorCode.OptionPreventsStatement or MySqlErrorNumbers.ReadOnlyMode
            or (int)MySqlErrorCode.CannotExecuteInReadOnlyTransaction => DbFailure.ReadOnly, // --read-only, read-only mode, read-only transaction
        (int)MySqlErrorCode.LockDeadlock or (int)MySqlErrorCode.LockWaitTimeout => DbFailure.RolledBack,
        MySqlErrorNumbers.ServerGone or MySqlErrorNumbers.ServerLost or (int)MySqlErrorCode.ServerShutdown
            or MySqlErrorNumbers.ConnectionKilled => DbFailure.OutcomeUnknown,
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

    /// <summary>
    /// The one answer to "is the database (not the request) the problem?": any database error, passing
    /// or not (an expired IAM token is "access denied"), a broken connection, or a deadline that ran out
    /// (the data tier's deadline is Polly's <see cref="Polly.Timeout.TimeoutRejectedException"/>). Requests
    /// answer it with 503; background work postpones and tries again.
    /// </summary>
    public static bool IsUnavailable(Exception exception) =>
        exception is DbException or TimeoutException or OperationCanceledException or Polly.Timeout.TimeoutRejectedException
            or System.IO.IOException or System.Net.Sockets.SocketException;
}
