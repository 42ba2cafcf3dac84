using System.Data.Common;
using System.Reflection;
using CustomerRecords.Api.Customers;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Api.Data;

/// <summary>
/// Applies the versioned SQL scripts under <c>Data/Migrations/{dialect}</c> in order, once each,
/// recording them in <c>schema_migrations</c>. Instances starting together take turns: MySQL through
/// <c>GET_LOCK</c>, SQLite through an immediate (write-locking) transaction.
/// </summary>
internal sealed partial class Migrator(CustomerDatabase database, IOptions<DatabaseOptions> options, TimeProvider clock, ILogger<Migrator> logger)
{
    private const string LockName = "customer_records.schema_migrations";

    internal sealed record Script(int Version, string Name, string Sql);

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
            LogApplying(logger, script.Version, script.Name);
            await using (var command = connection.CreateCommand(script.Sql, transaction))
            {
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

        // The first migration creates the table: this start made a new database, so it gets the samples.
        if (applied.Contains(1) && options.Value.SeedSampleData)
        {
            await SeedAsync(connection, transaction, ct);
        }

        return applied;
    }

    private async Task SeedAsync(DbConnection connection, DbTransaction? transaction, CancellationToken ct)
    {
        (string Name, string Email, string Phone)[] samples =
        [
            ("John Doe", "john.doe@example.com", "+1-555-0123"),
            ("Jane Smith", "jane.smith@example.com", "+1-555-0456"),
            ("Bob Johnson", "bob.johnson@example.com", "+1-555-0789"),
        ];
        var now = CustomerStore.StoredNow(clock);
        foreach (var (name, email, phone) in samples)
        {
            await using var insert = CustomerStore.CreateInsertCommand(
                connection, transaction, database.Dialect, new CustomerChange(name, email, SetPhone: true, phone), now);
            await insert.ExecuteScalarAsync(ct);
        }

        LogSeeded(logger, samples.Length);
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
            scripts.Add(new Script(version, Path.GetFileNameWithoutExtension(file[(separator + 1)..]), text.ReadToEnd()));
        }

        scripts.Sort((a, b) => a.Version.CompareTo(b.Version));
        return scripts;
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Applying schema migration {Version} ({Name})")]
    private static partial void LogApplying(ILogger logger, int version, string name);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "New database: inserted {Count} sample customers")]
    private static partial void LogSeeded(ILogger logger, int count);
}
