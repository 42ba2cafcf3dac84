using System.Data.Common;
using System.Reflection;
using Microsoft.Extensions.Options;

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

/// <summary>
/// Applies the versioned SQL scripts under <c>Data/Migrations/{dialect}</c> in order, once each,
/// recording them in <c>schema_migrations</c>. Instances starting together take turns: MySQL through
/// <c>GET_LOCK</c>, SQLite through an immediate (write-locking) transaction.
/// </summary>
internal sealed partial class Migrator(
    AppDatabase database,
    IOptions<DatabaseOptions> options,
    TimeProvider clock,
    IEnumerable<IAfterMigration> steps,
    ILogger<Migrator> logger)
{
    private const string LockName = "customer_records.schema_migrations";

    /// <param name="Version">The number the file name starts with.</param>
    /// <param name="Name">The rest of the file name.</param>
    /// <param name="Sql">The script.</param>
    /// <param name="UnlessColumn">From a first line <c>-- unless column exists: table.column</c>: the script's change is
    /// already there when that column is (MySQL commits DDL implicitly, and has no ADD COLUMN IF NOT EXISTS).</param>
    internal sealed record Script(int Version, string Name, string Sql, (string Table, string Column)? UnlessColumn = null);

    private const string UnlessColumnDirective = "-- unless column exists: ";

    /// <summary>Applies what is pending; returns the versions applied by this call.</summary>
    public async Task<IReadOnlyList<int>> MigrateAsync(CancellationToken ct)
    {
        var scripts = LoadScripts(database.Dialect);
        await using var connection = await database.Writer.OpenConnectionAsync(ct);
        return database.Dialect == SqlDialect.Sqlite
            ? await MigrateSqliteAsync(connection, scripts, ct)
            : await MigrateMySqlAsync(connection, scripts, ct);
    }

    private async Task<IReadOnlyList<int>> MigrateMySqlAsync(DbConnection connection, IReadOnlyList<Script> scripts, CancellationToken ct)
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

    private async Task<IReadOnlyList<int>> MigrateSqliteAsync(DbConnection connection, IReadOnlyList<Script> scripts, CancellationToken ct)
    {
        await using (var wal = connection.CreateCommand("PRAGMA journal_mode = WAL;"))
        {
            await wal.ExecuteNonQueryAsync(ct);
        }

        // SQLite DDL is transactional: all pending scripts land together or not at all. The provider
        // begins transactions IMMEDIATE, so a second instance waits here for the write lock.
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var applied = await ApplyPendingAsync(connection, transaction, scripts, ct);
        await transaction.CommitAsync(ct);
        return applied;
    }

    private async Task<IReadOnlyList<int>> ApplyPendingAsync(DbConnection connection, DbTransaction? transaction, IReadOnlyList<Script> scripts, CancellationToken ct)
    {
        await using (var create = connection.CreateCommand(database.Dialect.CreateMigrationsTable, transaction))
        {
            await create.ExecuteNonQueryAsync(ct);
        }

        var done = new HashSet<int>();
        await using (var query = connection.CreateCommand("SELECT version FROM schema_migrations", transaction))
        await using (var reader = await query.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                done.Add(Convert.ToInt32(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture));
            }
        }

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

        return applied;
    }

    private async Task<bool> ColumnExistsAsync(DbConnection connection, DbTransaction? transaction, (string Table, string Column) column, CancellationToken ct)
    {
        await using var command = connection.CreateCommand(database.Dialect.CountColumns, transaction)
            .With("@table", column.Table).With("@column", column.Column);
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture) > 0;
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
}
