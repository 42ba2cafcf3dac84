using System.Data.Common;
using System.Globalization;
using CustomerRecords.Api.Data;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerRecords.Tests.History;

/// <summary>Rows of <c>customers</c> and <c>customer_events</c> written and read directly, on whichever engine the service runs.</summary>
internal static class EventRows
{
    private static int _nextId = 700_000 + Random.Shared.Next(0, 100_000);

    /// <summary>An id no customer of the sample data or the API has (ids handed out by the database stay far lower).</summary>
    public static int UnusedCustomerId() => Interlocked.Add(ref _nextId, 97);

    public static async Task<DbConnection> OpenAsync(CustomerApiFactory factory) =>
        await factory.Services.GetRequiredService<AppDatabase>().Writer.OpenConnectionAsync();

    /// <summary>Appends one event; returns its seq.</summary>
    public static async Task<long> InsertEventAsync(
        CustomerApiFactory factory, int customerId, string kind, int version, string fields = "", string? changes = null,
        DateTime? occurredAt = null, DateTime? erasedAt = null, string actor = "key:test", string? traceId = null)
    {
        await using var connection = await OpenAsync(factory);
        return await InsertEventAsync(connection, null, customerId, kind, version, fields, changes, occurredAt, erasedAt, actor, traceId);
    }

    public static async Task<long> InsertEventAsync(
        DbConnection connection, DbTransaction? transaction, int customerId, string kind, int version, string fields = "", string? changes = null,
        DateTime? occurredAt = null, DateTime? erasedAt = null, string actor = "key:test", string? traceId = null)
    {
        var mysql = connection.GetType().Name.StartsWith("MySql", StringComparison.Ordinal);
        await using var command = connection.CreateCommand(
            """
            INSERT INTO customer_events (customer_id, kind, occurred_at, actor, trace_id, version, fields, changes, erased_at)
            VALUES (@customer_id, @kind, @occurred_at, @actor, @trace_id, @version, @fields, @changes, @erased_at)
            """ + (mysql ? ";\nSELECT LAST_INSERT_ID();" : "\nRETURNING seq;"),
            transaction)
            .With("@customer_id", customerId)
            .With("@kind", kind)
            .With("@occurred_at", occurredAt ?? Now())
            .With("@actor", actor)
            .With("@trace_id", traceId)
            .With("@version", version)
            .With("@fields", fields)
            .With("@changes", changes)
            .With("@erased_at", erasedAt);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    /// <summary>Inserts a customer row as the service would store it, deleted when <paramref name="deletedAt"/> is set; returns its id.</summary>
    public static async Task<int> InsertCustomerAsync(CustomerApiFactory factory, string name, string email, DateTime? deletedAt = null)
    {
        await using var connection = await OpenAsync(factory);
        var mysql = connection.GetType().Name.StartsWith("MySql", StringComparison.Ordinal);
        await using var command = connection.CreateCommand(
            """
            INSERT INTO customers (name, email, phone, created_at, updated_at, version, email_key, name_key, deleted_at)
            VALUES (@name, @email, NULL, @now, @now, 1, @email_key, @name_key, @deleted_at)
            """ + (mysql ? ";\nSELECT LAST_INSERT_ID();" : "\nRETURNING id;"))
            .With("@name", name)
            .With("@email", email)
            .With("@now", Now())
            .With("@email_key", email.ToLowerInvariant())
            .With("@name_key", name.ToLowerInvariant())
            .With("@deleted_at", deletedAt);
        return Convert.ToInt32(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    public static async Task<List<long>> ScalarsAsync(CustomerApiFactory factory, string sql)
    {
        await using var connection = await OpenAsync(factory);
        await using var command = connection.CreateCommand(sql);
        var values = new List<long>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            values.Add(Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture));
        }

        return values;
    }

    public static DateTime Now()
    {
        var ticks = DateTime.UtcNow.Ticks;
        return new DateTime(ticks - (ticks % 10), DateTimeKind.Utc);
    }
}
