using System.Globalization;
using MySqlConnector;

namespace CustomerRecords.Tests.Caching;

/// <summary>The database's truth, read and written directly, around the service and its cache.</summary>
public static class CustomerRows
{
    /// <summary>Inserts <paramref name="count"/> customers in one statement (no cache entry is set or repair scheduled) and returns their ids.</summary>
    public static async Task<IReadOnlyList<int>> InsertAsync(string connectionString, int count)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        var tag = Guid.NewGuid().ToString("N");
        var values = string.Join(", ", Enumerable.Range(0, count).Select(i => string.Create(
            CultureInfo.InvariantCulture, $"('Seeded {i}', 'seeded.{i}.{tag}@example.com', 'seeded.{i}.{tag}@example.com', 'seeded {i}', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))")));
        await using var command = new MySqlCommand(
            $"INSERT INTO customers (name, email, email_key, name_key, created_at, updated_at) VALUES {values}; SELECT LAST_INSERT_ID();", connection);

        // LAST_INSERT_ID() is the first id of a multi-row insert; InnoDB hands out consecutive ids to one statement.
        var first = Convert.ToInt32(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
        return Enumerable.Range(first, count).ToArray();
    }

    /// <summary>The id the next insert will get in a database where nothing was deleted.</summary>
    public static async Task<int> NextIdAsync(string connectionString)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand("SELECT COALESCE(MAX(id), 0) + 1 FROM customers", connection);
        return Convert.ToInt32(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    /// <summary>The row's email and version, or null when there is no such row.</summary>
    public static async Task<(string Email, int Version)?> ReadAsync(string connectionString, int id)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand("SELECT email, version FROM customers WHERE id = @id", connection);
        command.Parameters.AddWithValue("@id", id);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.GetString(0), reader.GetInt32(1)) : null;
    }

    /// <summary>Changes a row behind the service's back (no cache write, no repair scheduled), bumping its version as the service does.</summary>
    public static async Task SetEmailAsync(string connectionString, int id, string email)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(
            "UPDATE customers SET email = @email, email_key = LOWER(@email), version = version + 1, updated_at = UTC_TIMESTAMP(6) WHERE id = @id", connection);
        command.Parameters.AddWithValue("@email", email);
        command.Parameters.AddWithValue("@id", id);
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }
}
