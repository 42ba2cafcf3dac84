using System.Data.Common;
using System.Globalization;
using System.Reflection;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace CustomerRecords.Api.Data;

/// <summary>
/// A feature's step right after the schema migrations, under the same migration lock (and, on SQLite, in
/// the same transaction): e.g. sample data for a database this start created. The migrator knows no table.
/// </summary>
internal interface IAfterMigration
{
    /// <param name="connection">The migrating connection.</param>
    /// <param name="transaction">The migration's transaction on SQLite; null on MySQL (DDL commits implicitly).</param>
    /// <param name="applied">Versions this run applied; containing 1 means this run created the schema.</param>
    /// <param name="ct">Cancels the step.</param>
    Task RunAsync(DbConnection connection, DbTransaction? transaction, IReadOnlyList<int> applied, CancellationToken ct);
}

/// <summary>What one migration run found and did. The schema version is the highest migration applied, 0 for none.</summary>
/// <param name="Before">The schema version the run found.</param>
/// <param name="After">The schema version it left.</param>
/// <param name="Applied">The versions it applied, in order.</param>
internal sealed record MigrationResult(int Before, int After, IReadOnlyList<int> Applied)
{
    /// <summary>"Schema version 2 → 4 (applied 3, 4)", or "Schema is up to date at version 4".</summary>
    public override string ToString() => Applied.Count == 0
        ? $"Schema is up to date at version {After}"
        : $"Schema version {Before} → {After} (applied {string.Join(", ", Applied)})";
}

/// <summary>The schema's state without changing it (<c>migrate --status</c>).</summary>
/// <param name="Current">The highest migration applied, 0 for none.</param>
/// <param name="Pending">Versions this build has and the database lacks, in order.</param>
/// <param name="Latest">This build's highest migration.</param>
/// <param name="Note">Why the version is 0, when it is: no database file yet, or no schema.</param>
internal sealed record MigrationStatus(int Current, IReadOnlyList<int> Pending, int Latest, string? Note)
{
    public override string ToString()
    {
        var current = Note is null ? $"Schema version {Current}" : $"Schema version {Current} ({Note})";
        if (Pending.Count > 0)
        {
            return $"{current}; latest is {Latest}, pending {string.Join(", ", Pending)}: run 'migrate' to apply";
        }

        return Current > Latest
            ? $"{current} is newer than this build's latest ({Latest}): an older build is running against a newer schema"
            : $"Schema is up to date at version {Current}";
    }
}

/// <summary>
/// Applies the versioned SQL scripts under <c>Data/Migrations/{dialect}</c> in order, once each,
/// recording them in <c>schema_migrations</c>. Instances starting together take turns: MySQL through
/// <c>GET_LOCK</c>, SQLite through an immediate (write-locking) transaction. Its first connection waits
/// for a database that does not answer yet, up to <c>Database:StartupTimeout</c>.
/// </summary>
internal sealed partial class Migrator(
    AppDatabase database,
    IOptions<DatabaseOptions> options,
    IOptions<IamAuthenticationOptions> iam,
    TimeProvider clock,
    IEnumerable<IAfterMigration> steps,
    ILogger<Migrator> logger)
{
    private const string LockName = "customer_records.schema_migrations";

    /// <summary>First wait between start-up connection attempts; it doubles up to <see cref="MaxStartupDelay"/>.</summary>
    private static readonly TimeSpan FirstStartupDelay = TimeSpan.FromMilliseconds(500);

    private static readonly TimeSpan MaxStartupDelay = TimeSpan.FromSeconds(5);

    /// <param name="Version">The number the file name starts with.</param>
    /// <param name="Name">The rest of the file name.</param>
    /// <param name="Sql">The script.</param>
    /// <param name="UnlessColumn">From a first line <c>-- unless column exists: table.column</c>: the script's change is
    /// already there when that column is (MySQL commits DDL implicitly, and has no ADD COLUMN IF NOT EXISTS).</param>
    internal sealed record Script(int Version, string Name, string Sql, (string Table, string Column)? UnlessColumn = null);

    private const string UnlessColumnDirective = "-- unless column exists: ";

    /// <summary>Applies what is pending; returns the versions before and after and those applied by this call.</summary>
    public async Task<MigrationResult> MigrateAsync(CancellationToken ct)
    {
        var scripts = LoadScripts(database.Dialect);
        await using var connection = await OpenAtStartupAsync(ct);
        return database.Dialect == SqlDialect.Sqlite
            ? await MigrateSqliteAsync(connection, scripts, ct)
            : await MigrateMySqlAsync(connection, scripts, ct);
    }

    /// <summary>Reports the schema version and what is pending, changing nothing: no table, and no SQLite file, is created.</summary>
    public async Task<MigrationStatus> StatusAsync(CancellationToken ct)
    {
        var scripts = LoadScripts(database.Dialect);
        var latest = scripts.Count == 0 ? 0 : scripts[^1].Version;
        if (database.Dialect == SqlDialect.Sqlite && MissingSqliteFile(database.Writer.ConnectionString) is { } path)
        {
            return new MigrationStatus(0, [.. scripts.Select(s => s.Version)], latest, $"no database file yet at {path}");
        }

        HashSet<int> done;
        await using (var connection = await OpenAtStartupAsync(ct))
        {
            await using var exists = connection.CreateCommand(MigrationsTableExists(database.Dialect));
            done = Convert.ToInt64(await exists.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture) > 0
                ? await AppliedVersionsAsync(connection, null, ct)
                : [];
        }

        return new MigrationStatus(
            done.Count == 0 ? 0 : done.Max(),
            [.. scripts.Select(s => s.Version).Where(v => !done.Contains(v))],
            latest,
            done.Count == 0 ? "no schema yet" : null);
    }

    private async Task<MigrationResult> MigrateMySqlAsync(DbConnection connection, IReadOnlyList<Script> scripts, CancellationToken ct)
    {
        await using (var lockCommand = connection.CreateCommand("SELECT GET_LOCK(@name, @timeout)")
            .With("@name", LockName).With("@timeout", options.Value.MigrationLockTimeoutSeconds))
        {
            if (Convert.ToInt32(await lockCommand.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture) != 1)
            {
                throw new InvalidOperationException(
                    $"Another instance held the migration lock for more than Database:MigrationLockTimeoutSeconds ({options.Value.MigrationLockTimeoutSeconds} s).");
            }
        }

        try
        {
            // MySQL commits DDL implicitly, so each script is applied and then recorded; scripts are
            // written to be re-runnable (IF NOT EXISTS) in case a crash falls between the two.
            return await ApplyPendingAsync(connection, null, scripts, ct);
        }
        finally
        {
            await using var release = connection.CreateCommand("SELECT RELEASE_LOCK(@name)").With("@name", LockName);
            await release.ExecuteScalarAsync(CancellationToken.None);
        }
    }

    private async Task<MigrationResult> MigrateSqliteAsync(DbConnection connection, IReadOnlyList<Script> scripts, CancellationToken ct)
    {
        await using (var wal = connection.CreateCommand("PRAGMA journal_mode = WAL;"))
        {
            await wal.ExecuteNonQueryAsync(ct);
        }

        // SQLite DDL is transactional: all pending scripts land together or not at all. The provider
        // begins transactions IMMEDIATE, so a second instance waits here for the write lock.
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var result = await ApplyPendingAsync(connection, transaction, scripts, ct);
        await transaction.CommitAsync(ct);
        return result;
    }

    private async Task<MigrationResult> ApplyPendingAsync(DbConnection connection, DbTransaction? transaction, IReadOnlyList<Script> scripts, CancellationToken ct)
    {
        await using (var create = connection.CreateCommand(database.Dialect.CreateMigrationsTable, transaction))
        {
            await create.ExecuteNonQueryAsync(ct);
        }

        var done = await AppliedVersionsAsync(connection, transaction, ct);
        var before = done.Count == 0 ? 0 : done.Max();
        var applied = new List<int>();
        foreach (var script in scripts.Where(s => !done.Contains(s.Version)))
        {
            if (script.UnlessColumn is { } column && await ColumnExistsAsync(connection, transaction, column, ct))
            {
                LogAlreadyPresent(logger, script.Version, script.Name);
            }
            else
            {
                LogApplying(logger, script.Version, script.Name);
                await using var command = connection.CreateCommand(script.Sql, transaction);
                // No command timeout: a script rebuilds whole tables (0009 copies every row: about 10 s at
                // 1,000,000 rows on 2 cores), past the request path's default (5 s on MySQL, ConnectionSettings), which
                // would cancel it every time and leave the schema where it was. Ctrl-C (ct) still stops it.
                command.CommandTimeout = 0;
                await command.ExecuteNonQueryAsync(ct);
            }

            await using (var record = connection.CreateCommand(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@version, @name, @at)", transaction)
                .With("@version", script.Version).With("@name", script.Name).With("@at", clock.GetUtcNow().UtcDateTime))
            {
                await record.ExecuteNonQueryAsync(ct);
            }

            applied.Add(script.Version);
        }

        foreach (var step in steps)
        {
            await step.RunAsync(connection, transaction, applied, ct);
        }

        return new MigrationResult(before, applied.Count == 0 ? before : Math.Max(before, applied.Max()), applied);
    }

    private static async Task<HashSet<int>> AppliedVersionsAsync(DbConnection connection, DbTransaction? transaction, CancellationToken ct)
    {
        var done = new HashSet<int>();
        await using var query = connection.CreateCommand("SELECT version FROM schema_migrations", transaction);
        await using var reader = await query.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            done.Add(Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture));
        }

        return done;
    }

    private static string MigrationsTableExists(SqlDialect dialect) => dialect == SqlDialect.Sqlite
        ? "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        : "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'schema_migrations'";

    /// <summary>The SQLite file's path when it does not exist yet (opening it would create it); null otherwise.</summary>
    private static string? MissingSqliteFile(string connectionString)
    {
        var sqlite = new SqliteConnectionStringBuilder(connectionString);
        return sqlite.Mode == SqliteOpenMode.Memory || sqlite.DataSource is "" or ":memory:" || File.Exists(sqlite.DataSource)
            ? null
            : sqlite.DataSource;
    }

    /// <summary>
    /// Opens a connection to the writer. A database that does not answer (refused, timed out, too many connections,
    /// shutting down: any failure <see cref="DbFailures"/> calls passing) is tried again with backoff until
    /// <c>Database:StartupTimeout</c> has passed since the first attempt; one that answers and refuses (access denied,
    /// no such database, a file that cannot be opened) fails at once. Either way the exception names the database's
    /// host and port (or file), never its password or connection string, and says what to fix.
    /// </summary>
    internal async Task<DbConnection> OpenAtStartupAsync(CancellationToken ct)
    {
        var endpoint = Endpoint.Of(database);
        var timeout = options.Value.StartupTimeout;
        var started = clock.GetTimestamp();
        Exception? lastAnswer = null; // the last failure that said more than "cancelled at the deadline"
        for (var attempt = 1; ; attempt++)
        {
            var left = timeout - clock.GetElapsedTime(started);
            using var deadline = left > TimeSpan.Zero ? new CancellationTokenSource(left, clock) : new CancellationTokenSource();
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
            try
            {
                return await database.Writer.OpenConnectionAsync(bounded.Token);
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is DbException or IOException or TimeoutException
                or System.Net.Sockets.SocketException or OperationCanceledException)
            {
                if (e is not OperationCanceledException && DbFailures.Classify(e) == DbFailure.Permanent)
                {
                    throw Refused(endpoint, e);
                }

                lastAnswer = e is OperationCanceledException ? lastAnswer : e;
                left = timeout - clock.GetElapsedTime(started);
                if (left <= TimeSpan.Zero)
                {
                    throw Unreachable(endpoint, attempt, timeout, lastAnswer ?? e);
                }

                var delay = TimeSpan.FromTicks(Math.Min(
                    Math.Min(FirstStartupDelay.Ticks << Math.Min(attempt - 1, 10), MaxStartupDelay.Ticks),
                    left.Ticks));
                // Rounded: the log scrubber would take 1.3720888 for a phone number.
                LogWaitingForDatabase(logger, attempt, endpoint.Address, Reason(e), Math.Round(delay.TotalSeconds, 1), timeout);
                await Task.Delay(delay, clock, ct);
            }
        }
    }

    private static string Reason(Exception e) => e switch
    {
        OperationCanceledException => "no answer before Database:StartupTimeout ran out",
        { InnerException: System.Net.Sockets.SocketException socket } => $"{e.Message} ({socket.Message})",
        _ => e.Message,
    };

    private static InvalidOperationException Unreachable(Endpoint endpoint, int attempts, TimeSpan timeout, Exception last) => new(
        $"Cannot reach the {endpoint.Engine} database at {endpoint.Address}: no answer within Database:StartupTimeout " +
        $"({timeout:c}, {attempts} attempt{(attempts == 1 ? "" : "s")}; last error: {Reason(last).TrimEnd('.')}). " +
        (endpoint.Engine == "MySQL"
            ? "Check that the server is running and that this machine can reach it (Server and Port in ConnectionStrings:Customers, " +
              "or DB_HOST and DB_PORT; security groups and firewalls on the way). If it is still starting (Aurora Serverless " +
              "resuming, an RDS reboot), a longer Database:StartupTimeout waits for it."
            : "Check that no other process holds the file's write lock, or raise Database:StartupTimeout."),
        last);

    private InvalidOperationException Refused(Endpoint endpoint, Exception e)
    {
        var user = $"'{endpoint.User}'";
        var credentials = iam.Value.Enabled
            ? "Database:IamAuthentication is on: check that the IAM role may rds-db:connect as this user and that the user is identified WITH AWSAuthenticationPlugin."
            : "Check User ID and Password in ConnectionStrings:Customers, or DB_USER and DB_PASSWORD (or DB_PASSWORD_FILE).";
        var message = e switch
        {
            MySqlException { ErrorCode: MySqlErrorCode.AccessDenied } =>
                $"The MySQL server at {endpoint.Address} refused the sign-in: access was denied for user {user} ({e.Message}). {credentials}",
            MySqlException { ErrorCode: MySqlErrorCode.UnknownDatabase } =>
                $"The MySQL server at {endpoint.Address} has no database '{endpoint.Database}'. Create it (CREATE DATABASE `{endpoint.Database}`) " +
                $"and grant user {user} its use, or fix Database in ConnectionStrings:Customers (or DB_NAME).",
            MySqlException { ErrorCode: MySqlErrorCode.DatabaseAccessDenied } =>
                $"The MySQL server at {endpoint.Address} does not let user {user} use database '{endpoint.Database}' ({e.Message}). " +
                $"Grant it (GRANT ALL ON `{endpoint.Database}`.* TO {user}) or connect as a user who may.",
            MySqlException { ErrorCode: MySqlErrorCode.HostNotPrivileged } =>
                $"The MySQL server at {endpoint.Address} does not let user {user} connect from this host ({e.Message}). " +
                "Create the user for this client's host (e.g. 'user'@'%'), or connect from a host it allows.",
            MySqlException =>
                $"The MySQL server at {endpoint.Address} refused the connection of user {user}: {e.Message}",
            SqliteException =>
                $"Cannot open the SQLite database {endpoint.Address}: {e.Message} Check that its folder exists and that this user may " +
                "write there, or point ConnectionStrings:Customers at another file (Data Source=path/to/file.db).",
            _ => $"Cannot open the {endpoint.Engine} database at {endpoint.Address}: {e.Message}",
        };
        return new InvalidOperationException(message, e);
    }

    /// <summary>What start-up messages may say about the database: engine, address, user and database name; never the password.</summary>
    private sealed record Endpoint(string Engine, string Address, string? User, string? Database)
    {
        public static Endpoint Of(AppDatabase database)
        {
            var connectionString = database.Writer.ConnectionString;
            if (database.Dialect == SqlDialect.Sqlite)
            {
                return new Endpoint("SQLite", new SqliteConnectionStringBuilder(connectionString).DataSource, null, null);
            }

            var mysql = new MySqlConnectionStringBuilder(connectionString);
            var server = mysql.Server ?? "";
            var address = mysql.ConnectionProtocol == MySqlConnectionProtocol.UnixSocket || server.StartsWith('/')
                ? server
                : string.Join(", ", server.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(host => $"{host}:{mysql.Port}"));
            return new Endpoint("MySQL", address, mysql.UserID, mysql.Database);
        }
    }

    private async Task<bool> ColumnExistsAsync(DbConnection connection, DbTransaction? transaction, (string Table, string Column) column, CancellationToken ct)
    {
        await using var command = connection.CreateCommand(database.Dialect.CountColumns, transaction)
            .With("@table", column.Table).With("@column", column.Column);
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture) > 0;
    }

    internal static IReadOnlyList<Script> LoadScripts(SqlDialect dialect)
    {
        var assembly = typeof(Migrator).Assembly;
        var prefix = $"{assembly.GetName().Name}.Data.Migrations.{dialect.Name}.";
        var scripts = new List<Script>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            var file = resource[prefix.Length..];
            var separator = file.IndexOf('_', StringComparison.Ordinal);
            if (separator <= 0 || !int.TryParse(file.AsSpan(0, separator), System.Globalization.CultureInfo.InvariantCulture, out var version))
            {
                throw new InvalidOperationException($"Migration script '{file}' must be named NNNN_description.sql.");
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var text = new StreamReader(stream);
            var sql = text.ReadToEnd();
            scripts.Add(new Script(version, Path.GetFileNameWithoutExtension(file[(separator + 1)..]), sql, UnlessColumn(sql)));
        }

        scripts.Sort((a, b) => a.Version.CompareTo(b.Version));
        return scripts;
    }

    private static (string Table, string Column)? UnlessColumn(string sql)
    {
        var firstLine = sql.AsSpan(0, Math.Max(sql.IndexOf('\n', StringComparison.Ordinal), 0)).Trim();
        if (!firstLine.StartsWith(UnlessColumnDirective, StringComparison.Ordinal))
        {
            return null;
        }

        var name = firstLine[UnlessColumnDirective.Length..].Trim().ToString();
        var dot = name.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 && dot < name.Length - 1
            ? (name[..dot], name[(dot + 1)..])
            : throw new InvalidOperationException($"Migration guard '{name}' must be table.column.");
    }

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Schema migration {Version} ({Name}) is already in place; recording it")]
    private static partial void LogAlreadyPresent(ILogger logger, int version, string name);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Applying schema migration {Version} ({Name})")]
    private static partial void LogApplying(ILogger logger, int version, string name);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning,
        Message = "Database {Address} did not answer (attempt {Attempt}: {Reason}); next attempt in {DelaySeconds} s, until Database:StartupTimeout ({StartupTimeout}) has passed")]
    private static partial void LogWaitingForDatabase(ILogger logger, int attempt, string address, string reason, double delaySeconds, TimeSpan startupTimeout);
}
