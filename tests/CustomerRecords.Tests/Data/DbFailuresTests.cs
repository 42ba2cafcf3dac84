using System.Data.Common;
using System.Net.Sockets;
using System.Reflection;
using CustomerRecords.Api.Data;
using Microsoft.Data.Sqlite;
using MySqlConnector;
using Polly.Timeout;

namespace CustomerRecords.Tests.Data;

public class DbFailuresTests
{
    // MySqlConnector 2.4.0 keeps every MySqlException constructor internal; this is the one the driver
    // itself uses for server errors (error code, message, inner exception).
    private static readonly ConstructorInfo MySqlExceptionConstructor =
        typeof(MySqlException).GetConstructor(
            BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance,
            [typeof(MySqlErrorCode), typeof(string), typeof(Exception)])
        ?? throw new InvalidOperationException("MySqlException(MySqlErrorCode, string, Exception) is gone; update the test helper.");

    private static MySqlException MySql(int number, Exception? inner = null) =>
        (MySqlException)MySqlExceptionConstructor.Invoke([(MySqlErrorCode)number, "test error", inner]);

    private static DbFailure Failure(string name) => Enum.Parse<DbFailure>(name);

    private sealed class TestDbException(string message, Exception? inner) : DbException(message, inner);

    [Fact]
    public void TheHelperBuildsAMySqlExceptionWithTheGivenErrorNumber()
    {
        var exception = MySql((int)MySqlErrorCode.LockDeadlock);

        Assert.Equal(MySqlErrorCode.LockDeadlock, exception.ErrorCode);
        Assert.Equal(1213, exception.Number);
    }

    [Theory]
    [InlineData(DbFailures.MySqlErrorNumbers.ReadOnlyMode, 1836)]
    [InlineData(DbFailures.MySqlErrorNumbers.ServerGone, 2006)]
    [InlineData(DbFailures.MySqlErrorNumbers.ServerLost, 2013)]
    [InlineData(DbFailures.MySqlErrorNumbers.ConnectionKilled, 1927)]
    public void UnnamedErrorNumbersAreTheServersAndClientsNumbers(int constant, int documented) =>
        Assert.Equal(documented, constant);

    [Theory]
    // Nothing reached the server.
    [InlineData((int)MySqlErrorCode.ConnectionCountError, nameof(DbFailure.NotSent))]
    [InlineData((int)MySqlErrorCode.TooManyUserConnections, nameof(DbFailure.NotSent))]
    [InlineData((int)MySqlErrorCode.UnableToConnectToHost, nameof(DbFailure.NotSent))]
    // A read-only server (demoted writer, reader endpoint).
    [InlineData((int)MySqlErrorCode.OptionPreventsStatement, nameof(DbFailure.ReadOnly))]
    [InlineData(DbFailures.MySqlErrorNumbers.ReadOnlyMode, nameof(DbFailure.ReadOnly))]
    [InlineData((int)MySqlErrorCode.CannotExecuteInReadOnlyTransaction, nameof(DbFailure.ReadOnly))]
    // The server rolled back.
    [InlineData((int)MySqlErrorCode.LockDeadlock, nameof(DbFailure.RolledBack))]
    [InlineData((int)MySqlErrorCode.LockWaitTimeout, nameof(DbFailure.RolledBack))]
    // The connection went away after sending.
    [InlineData(DbFailures.MySqlErrorNumbers.ServerGone, nameof(DbFailure.OutcomeUnknown))]
    [InlineData(DbFailures.MySqlErrorNumbers.ServerLost, nameof(DbFailure.OutcomeUnknown))]
    [InlineData((int)MySqlErrorCode.ServerShutdown, nameof(DbFailure.OutcomeUnknown))]
    [InlineData(DbFailures.MySqlErrorNumbers.ConnectionKilled, nameof(DbFailure.OutcomeUnknown))]
    [InlineData((int)MySqlErrorCode.CommandTimeoutExpired, nameof(DbFailure.OutcomeUnknown))]
    [InlineData((int)MySqlErrorCode.QueryInterrupted, nameof(DbFailure.OutcomeUnknown))]
    // Other errors the driver calls transient fall back to "outcome unknown".
    [InlineData((int)MySqlErrorCode.XARBDeadlock, nameof(DbFailure.OutcomeUnknown))]
    // Retrying gives the same answer.
    [InlineData((int)MySqlErrorCode.AccessDenied, nameof(DbFailure.Permanent))]
    [InlineData((int)MySqlErrorCode.DuplicateKeyEntry, nameof(DbFailure.Permanent))]
    [InlineData((int)MySqlErrorCode.ParseError, nameof(DbFailure.Permanent))]
    [InlineData((int)MySqlErrorCode.NoSuchTable, nameof(DbFailure.Permanent))]
    [InlineData((int)MySqlErrorCode.DataTooLong, nameof(DbFailure.Permanent))]
    public void MySqlErrorsAreClassifiedByErrorNumber(int number, string expected) =>
        Assert.Equal(Failure(expected), DbFailures.Classify(MySql(number)));

    [Theory]
    [InlineData((int)MySqlErrorCode.None)]
    [InlineData((int)MySqlErrorCode.DuplicateKeyEntry)]
    public void MySqlErrorWithoutAKnownNumberButABrokenConnectionInsideHasAnUnknownOutcome(int number)
    {
        Assert.Equal(DbFailure.OutcomeUnknown, DbFailures.Classify(MySql(number, new IOException("reset"))));
        Assert.Equal(DbFailure.OutcomeUnknown, DbFailures.Classify(MySql(number, new SocketException((int)SocketError.ConnectionReset))));
    }

    [Fact]
    public void MySqlErrorNumberWinsOverTheExceptionInside() =>
        Assert.Equal(DbFailure.RolledBack, DbFailures.Classify(MySql((int)MySqlErrorCode.LockDeadlock, new IOException("reset"))));

    [Fact]
    public void MySqlErrorWithAPermanentNumberAndAnUnrelatedInnerExceptionIsPermanent() =>
        Assert.Equal(DbFailure.Permanent, DbFailures.Classify(MySql((int)MySqlErrorCode.AccessDenied, new InvalidOperationException("x"))));

    [Theory]
    [InlineData(5, nameof(DbFailure.RolledBack))]  // SQLITE_BUSY
    [InlineData(6, nameof(DbFailure.RolledBack))]  // SQLITE_LOCKED
    [InlineData(1, nameof(DbFailure.Permanent))]   // SQLITE_ERROR
    [InlineData(8, nameof(DbFailure.Permanent))]   // SQLITE_READONLY
    [InlineData(19, nameof(DbFailure.Permanent))]  // SQLITE_CONSTRAINT
    public void SqliteErrorsAreClassifiedByPrimaryErrorCode(int errorCode, string expected) =>
        Assert.Equal(Failure(expected), DbFailures.Classify(new SqliteException("test error", errorCode)));

    [Fact]
    public void SqliteBusyWithAnExtendedCodeIsStillRolledBack() =>
        Assert.Equal(DbFailure.RolledBack, DbFailures.Classify(new SqliteException("test error", 5, 517)));

    [Theory]
    [InlineData("timeout", nameof(DbFailure.OutcomeUnknown))]
    [InlineData("io", nameof(DbFailure.OutcomeUnknown))]
    [InlineData("end-of-stream", nameof(DbFailure.OutcomeUnknown))]
    [InlineData("socket", nameof(DbFailure.OutcomeUnknown))]
    [InlineData("canceled", nameof(DbFailure.OutcomeUnknown))]
    [InlineData("task-canceled", nameof(DbFailure.OutcomeUnknown))]
    [InlineData("db-wrapping-io", nameof(DbFailure.OutcomeUnknown))]
    [InlineData("db-wrapping-socket", nameof(DbFailure.OutcomeUnknown))]
    [InlineData("db", nameof(DbFailure.Permanent))]
    [InlineData("db-wrapping-timeout", nameof(DbFailure.Permanent))]
    [InlineData("invalid-operation", nameof(DbFailure.Permanent))]
    [InlineData("argument", nameof(DbFailure.Permanent))]
    [InlineData("wrapping-io", nameof(DbFailure.Permanent))]
    [InlineData("polly-timeout", nameof(DbFailure.Permanent))]
    public void OtherExceptionsAreClassifiedByType(string kind, string expected) =>
        Assert.Equal(Failure(expected), DbFailures.Classify(Build(kind)));

    [Theory]
    [InlineData("io")]
    [InlineData("timeout")]
    [InlineData("invalid-operation")]
    [InlineData("db")]
    [InlineData("mysql-deadlock")]
    [InlineData("mysql-server-lost")]
    [InlineData("mysql-access-denied")]
    [InlineData("sqlite-busy")]
    public void NotSentMarkerMakesAnyExceptionNotSent(string kind)
    {
        var exception = Build(kind);
        exception.Data[DbFailures.NotSentMarker] = true;

        Assert.Equal(DbFailure.NotSent, DbFailures.Classify(exception));
    }

    [Fact]
    public void NotSentMarkerCountsOnlyOnTheExceptionItselfNotOnOneInside()
    {
        var inner = new IOException("reset");
        inner.Data[DbFailures.NotSentMarker] = true;

        Assert.Equal(DbFailure.Permanent, DbFailures.Classify(new InvalidOperationException("wrapper", inner)));
    }

    [Fact]
    public void AnotherDataEntryIsNotTheNotSentMarker()
    {
        var exception = new IOException("reset");
        exception.Data["customer-records.something-else"] = true;

        Assert.Equal(DbFailure.OutcomeUnknown, DbFailures.Classify(exception));
    }

    [Theory]
    [InlineData(nameof(DbFailure.Permanent), false, false)]
    [InlineData(nameof(DbFailure.Permanent), true, false)]
    [InlineData(nameof(DbFailure.NotSent), false, true)]
    [InlineData(nameof(DbFailure.NotSent), true, true)]
    [InlineData(nameof(DbFailure.ReadOnly), false, true)]
    [InlineData(nameof(DbFailure.ReadOnly), true, true)]
    [InlineData(nameof(DbFailure.RolledBack), false, true)]
    [InlineData(nameof(DbFailure.RolledBack), true, true)]
    [InlineData(nameof(DbFailure.OutcomeUnknown), false, false)]
    [InlineData(nameof(DbFailure.OutcomeUnknown), true, true)]
    public void RetryIsAllowedWhenNothingWasAppliedOrTheOperationIsIdempotent(string failure, bool idempotent, bool expected) =>
        Assert.Equal(expected, DbFailures.MayRetry(Failure(failure), idempotent));

    [Fact]
    public void RetryTableAboveCoversEveryFailureKind() =>
        Assert.Equal(
            [nameof(DbFailure.Permanent), nameof(DbFailure.NotSent), nameof(DbFailure.ReadOnly), nameof(DbFailure.RolledBack), nameof(DbFailure.OutcomeUnknown)],
            Enum.GetNames<DbFailure>());

    [Fact]
    public void DeadlockIsRolledBackAndRetriedEvenForWrites() =>
        Assert.True(DbFailures.MayRetry(DbFailures.Classify(MySql((int)MySqlErrorCode.LockDeadlock)), idempotent: false));

    [Fact]
    public void LostConnectionIsNotRetriedForAWrite() =>
        Assert.False(DbFailures.MayRetry(DbFailures.Classify(MySql(DbFailures.MySqlErrorNumbers.ServerLost)), idempotent: false));

    [Theory]
    [InlineData("db", true)]
    [InlineData("db-wrapping-timeout", true)]
    [InlineData("mysql-access-denied", true)]
    [InlineData("mysql-duplicate-key", true)]
    [InlineData("mysql-deadlock", true)]
    [InlineData("sqlite-busy", true)]
    [InlineData("sqlite-constraint", true)]
    [InlineData("timeout", true)]
    [InlineData("polly-timeout", true)]
    [InlineData("canceled", true)]
    [InlineData("task-canceled", true)]
    [InlineData("io", true)]
    [InlineData("end-of-stream", true)]
    [InlineData("socket", true)]
    [InlineData("invalid-operation", false)]
    [InlineData("argument", false)]
    [InlineData("wrapping-io", false)]
    [InlineData("aggregate-io", false)]
    public void DatabaseErrorsBrokenConnectionsAndDeadlinesMeanTheServiceIsUnavailable(string kind, bool expected) =>
        Assert.Equal(expected, DbFailures.IsUnavailable(Build(kind)));

    private static Exception Build(string kind) => kind switch
    {
        "timeout" => new TimeoutException("deadline"),
        "io" => new IOException("reset"),
        "end-of-stream" => new EndOfStreamException("eof"),
        "socket" => new SocketException((int)SocketError.ConnectionRefused),
        "canceled" => new OperationCanceledException("canceled"),
        "task-canceled" => new TaskCanceledException("canceled"),
        "polly-timeout" => new TimeoutRejectedException("deadline"),
        "db" => new TestDbException("db", null),
        "db-wrapping-io" => new TestDbException("db", new IOException("reset")),
        "db-wrapping-socket" => new TestDbException("db", new SocketException((int)SocketError.ConnectionReset)),
        "db-wrapping-timeout" => new TestDbException("db", new TimeoutException("deadline")),
        "invalid-operation" => new InvalidOperationException("bug"),
        "argument" => new ArgumentException("bug"),
        "wrapping-io" => new InvalidOperationException("wrapper", new IOException("reset")),
        "aggregate-io" => new AggregateException(new IOException("reset")),
        "mysql-deadlock" => MySql((int)MySqlErrorCode.LockDeadlock),
        "mysql-server-lost" => MySql(DbFailures.MySqlErrorNumbers.ServerLost),
        "mysql-access-denied" => MySql((int)MySqlErrorCode.AccessDenied),
        "mysql-duplicate-key" => MySql((int)MySqlErrorCode.DuplicateKeyEntry),
        "sqlite-busy" => new SqliteException("busy", 5),
        "sqlite-constraint" => new SqliteException("constraint", 19),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown exception kind"),
    };
}
