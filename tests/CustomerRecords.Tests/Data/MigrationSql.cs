using System.Data.Common;
using System.Globalization;
using CustomerRecords.Api.Data;

namespace CustomerRecords.Tests.Data;

/// <summary>
/// Plain SQL helpers for the migration tests (their databases come from <see cref="MigrationDatabases"/>): building
/// an older schema, writing and reading rows and describing a schema.
/// </summary>
internal static class MigrationSql
{
    /// <summary>
    /// Inserts a customer with only the columns every schema version has (1–4 had no deleted_at), its email and name
    /// keys lower-cased; <paramref name="updatedAt"/> defaults to <paramref name="createdAt"/>.
    /// </summary>
    public static Task<int> InsertCustomerAsync(
        DbConnection connection, string name, string email, DateTime createdAt, int version = 1, string? phone = null, DateTime? updatedAt = null) =>
        ExecuteAsync(connection, """
            INSERT INTO customers (name, email, phone, created_at, updated_at, version, email_key, name_key)
            VALUES (@name, @email, @phone, @created, @updated, @version, @email_key, @name_key)
            """,
            ("@name", name), ("@email", email), ("@phone", phone), ("@created", createdAt), ("@updated", updatedAt ?? createdAt),
            ("@version", version), ("@email_key", email.ToLowerInvariant()), ("@name_key", name.ToLowerInvariant()));

    /// <summary>Applies <paramref name="scripts"/> and records each, as the migrator of the version that had them did.</summary>
    public static async Task ApplyAsync(DbConnection connection, SqlDialect dialect, IEnumerable<Migrator.Script> scripts)
    {
        await ExecuteAsync(connection, dialect.CreateMigrationsTable);
        foreach (var script in scripts)
        {
            await ExecuteAsync(connection, script.Sql);
            await ExecuteAsync(connection, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@v, @n, @at)",
                ("@v", script.Version), ("@n", script.Name), ("@at", DateTime.UtcNow));
        }
    }

    public static async Task<int> ExecuteAsync(DbConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(connection, sql, parameters);
        return await command.ExecuteNonQueryAsync();
    }

    public static async Task<long> ScalarAsync(DbConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(connection, sql, parameters);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    /// <summary>Every row of the query, each value as the driver gives it (DBNull for NULL).</summary>
    public static async Task<List<object[]>> RowsAsync(DbConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(connection, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<object[]>();
        while (await reader.ReadAsync())
        {
            var row = new object[reader.FieldCount];
            reader.GetValues(row);
            rows.Add(row);
        }

        return rows;
    }

    /// <summary>The versions recorded in schema_migrations, in order, repeats included.</summary>
    public static async Task<List<int>> VersionsAsync(DbConnection connection) =>
        [.. (await RowsAsync(connection, "SELECT version FROM schema_migrations ORDER BY version"))
            .Select(r => Convert.ToInt32(r[0], CultureInfo.InvariantCulture))];

    /// <summary>
    /// The schema as text lines: on MySQL every column (type, nullability, default, generation) and index column of the
    /// database's tables from information_schema; on SQLite every table's and index's SQL from sqlite_master.
    /// Two databases with the same lines have the same tables, columns and indexes.
    /// </summary>
    public static async Task<List<string>> SchemaAsync(DbConnection connection, SqlDialect dialect)
    {
        var queries = dialect == SqlDialect.Sqlite
            ? new[] { "SELECT type, name, tbl_name, COALESCE(sql, '') FROM sqlite_master ORDER BY type, name" }
            : [
                """
                SELECT table_name, column_name, ordinal_position, column_type, is_nullable, COALESCE(column_default, '<none>'),
                       extra, COALESCE(generation_expression, ''), COALESCE(collation_name, ''), column_key
                FROM information_schema.columns WHERE table_schema = DATABASE() ORDER BY table_name, ordinal_position
                """,
                """
                SELECT table_name, index_name, non_unique, seq_in_index, column_name, COALESCE(sub_part, 0), nullable, index_type
                FROM information_schema.statistics WHERE table_schema = DATABASE() ORDER BY table_name, index_name, seq_in_index
                """,
            ];
        var lines = new List<string>();
        foreach (var query in queries)
        {
            lines.AddRange((await RowsAsync(connection, query)).Select(row =>
                string.Join(" | ", row.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture)))));
        }

        return lines;
    }

    private static DbCommand Command(DbConnection connection, string sql, (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.With(name, value);
        }

        return command;
    }
}
