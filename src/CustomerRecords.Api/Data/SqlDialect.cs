using System.Data.Common;
using Microsoft.Data.Sqlite;
using MySqlConnector;

namespace CustomerRecords.Api.Data;

/// <summary>The few places where MySQL/MariaDB and SQLite differ; everything else is shared SQL.</summary>
internal abstract class SqlDialect
{
    public static readonly SqlDialect MySql = new MySqlDialect();
    public static readonly SqlDialect Sqlite = new SqliteDialect();

    /// <summary>Folder of this dialect's migration scripts under <c>Data/Migrations</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Makes a single-row <c>INSERT ... VALUES (...)</c> (no trailing semicolon) return the new row's id as a scalar.</summary>
    public abstract string ReturningId(string insert);

    /// <summary>The SQL expression of the id the previous INSERT on this connection generated (for a statement batched after it).</summary>
    public abstract string LastInsertId { get; }

    /// <summary>
    /// The server takes <c>INSERT ... RETURNING</c> with many rows (MariaDB 10.5+, SQLite 3.35+; not MySQL 8): a
    /// multi-row INSERT then answers its rows without a read by key after it.
    /// </summary>
    public abstract bool InsertReturnsRows(DbConnection connection);

    public abstract string CreateMigrationsTable { get; }

    /// <summary>A scalar count of the columns named <c>@column</c> in table <c>@table</c> (0 or 1).</summary>
    public abstract string CountColumns { get; }

    /// <summary>A table hint (appended after <c>FROM customers</c>) naming the index whose order a page reads.</summary>
    public virtual string OrderIndexHint(string index) => string.Empty;

    /// <summary>
    /// Appended to a SELECT inside a write transaction to lock the rows it reads (MySQL <c>FOR UPDATE</c>).
    /// Empty on SQLite, whose write transactions begin IMMEDIATE and so hold the database's write lock already.
    /// </summary>
    public virtual string ForUpdate => string.Empty;

    /// <summary>The error is a unique-key violation (duplicate email).</summary>
    public abstract bool IsUniqueViolation(DbException exception);

    /// <summary>
    /// The isolation of a transaction that locks one row and then must see everything committed so far with
    /// plain reads (the change feed's sequencer): READ COMMITTED on MySQL; SQLite's write transactions are serial.
    /// </summary>
    public virtual System.Data.IsolationLevel LockThenReadIsolation => System.Data.IsolationLevel.Serializable;

    /// <summary>
    /// Begins a read-only transaction whose every read sees the database as it was when it began, whatever commits
    /// meanwhile (a bulk export). MySQL/MariaDB: REPEATABLE READ, <c>START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY</c>.
    /// SQLite: a deferred transaction, whose first read fixes its WAL snapshot while writers go on.
    /// </summary>
    public abstract Task<DbTransaction> BeginSnapshotAsync(DbConnection connection, CancellationToken ct);

    private sealed class MySqlDialect : SqlDialect
    {
        public override string Name => "mysql";

        public override string ReturningId(string insert) => insert + ";\nSELECT LAST_INSERT_ID();";

        public override string LastInsertId => "LAST_INSERT_ID()";

        public override bool InsertReturnsRows(DbConnection connection) =>
            connection.ServerVersion.Contains("MariaDB", StringComparison.OrdinalIgnoreCase);

        public override string CreateMigrationsTable => """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version INT NOT NULL PRIMARY KEY,
                name VARCHAR(255) NOT NULL,
                applied_at DATETIME(6) NOT NULL
            ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
            """;

        public override string CountColumns =>
            "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = @table AND column_name = @column";

        public override bool IsUniqueViolation(DbException exception) =>
            exception is MySqlException { ErrorCode: MySqlErrorCode.DuplicateKeyEntry };

        public override string OrderIndexHint(string index) => $" FORCE INDEX ({index})";

        public override string ForUpdate => " FOR UPDATE";

        public override System.Data.IsolationLevel LockThenReadIsolation => System.Data.IsolationLevel.ReadCommitted;

        // MySqlConnector maps Snapshot to REPEATABLE READ plus WITH CONSISTENT SNAPSHOT.
        public override async Task<DbTransaction> BeginSnapshotAsync(DbConnection connection, CancellationToken ct) =>
            await ((MySqlConnection)connection).BeginTransactionAsync(System.Data.IsolationLevel.Snapshot, isReadOnly: true, ct);
    }

    private sealed class SqliteDialect : SqlDialect
    {
        private const int SqliteConstraint = 19;
        private const int SqliteConstraintUnique = 2067;
        private const int SqliteConstraintPrimaryKey = 1555;

        public override string Name => "sqlite";

        public override string ReturningId(string insert) => insert + "\nRETURNING id;";

        public override string LastInsertId => "last_insert_rowid()";

        public override bool InsertReturnsRows(DbConnection connection) => true;

        public override string CreateMigrationsTable => """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER NOT NULL PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at TEXT NOT NULL
            );
            """;

        // table_xinfo, not table_info: it lists generated columns too (phone_key, migration 0009).
        public override string CountColumns => "SELECT COUNT(*) FROM pragma_table_xinfo(@table) WHERE name = @column";

        public override bool IsUniqueViolation(DbException exception) =>
            exception is SqliteException { SqliteErrorCode: SqliteConstraint, SqliteExtendedErrorCode: SqliteConstraintUnique or SqliteConstraintPrimaryKey };

        public override Task<DbTransaction> BeginSnapshotAsync(DbConnection connection, CancellationToken ct) =>
            Task.FromResult<DbTransaction>(((SqliteConnection)connection).BeginTransaction(deferred: true));
    }
}
