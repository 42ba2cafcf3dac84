using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using CustomerRecords.Api.Data;

namespace CustomerRecords.Api.History;

/// <summary>
/// The read side of <c>customer_events</c>: a customer's history (keyset pages on <c>(customer_id, seq)</c>),
/// the export's pages, the change feed (by <c>position</c>, on the writer) and the retention purge.
/// Every operation runs through <see cref="ResilientDb"/>.
/// </summary>
internal sealed class HistoryStore(ResilientDb db)
{
    /// <summary>The value every field of an erased customer's events shows.</summary>
    public const string ErasedValue = "[erased]";

    /// <summary>Rows per query where the service reads or deletes many: the export's pages and the purge's batches.</summary>
    public const int BatchSize = 1000;

    private const string Columns = "seq, position, customer_id, kind, occurred_at, actor, trace_id, version, fields, changes, erased_at";

    private const string SelectNewestFirst = $"SELECT {Columns} FROM customer_events WHERE customer_id = @id ORDER BY seq DESC LIMIT @limit";

    private const string SelectOlderThan = $"SELECT {Columns} FROM customer_events WHERE customer_id = @id AND seq < @before ORDER BY seq DESC LIMIT @limit";

    private const string SelectOldestFirst = $"SELECT {Columns} FROM customer_events WHERE customer_id = @id AND seq > @after ORDER BY seq LIMIT @limit";

    private const string SelectFeed = $"SELECT {Columns} FROM customer_events WHERE position > @after ORDER BY position LIMIT @limit";

    private const string SelectRow = "SELECT id, name, email, phone, created_at, updated_at, version, deleted_at FROM customers WHERE id = @id";

    private const string SelectKnown = """
        SELECT EXISTS (SELECT 1 FROM customers WHERE id = @id),
               EXISTS (SELECT 1 FROM customer_events WHERE customer_id = @id),
               EXISTS (SELECT 1 FROM customer_events WHERE customer_id = @id AND (kind = 'erased' OR erased_at IS NOT NULL))
        """;

    // Only events the feed has already given a position: an old event still waiting for one is a follower's to see first.
    private const string SelectExpired = "SELECT seq FROM customer_events WHERE occurred_at < @cutoff AND position IS NOT NULL ORDER BY seq LIMIT @limit";

    /// <summary>A page of the customer's events, newest first, older than <paramref name="beforeSeq"/> when given; one more than <paramref name="limit"/> tells whether there is a next page.</summary>
    public Task<List<CustomerEvent>> HistoryAsync(int customerId, long? beforeSeq, int limit, CancellationToken ct) =>
        db.ReadAsync(
            async (connection, token) =>
            {
                await using var command = connection.CreateCommand(beforeSeq is null ? SelectNewestFirst : SelectOlderThan)
                    .With("@id", customerId).With("@limit", limit);
                if (beforeSeq is { } before)
                {
                    command.With("@before", before);
                }

                return await ReadEventsAsync(command, token);
            },
            preferReplica: true,
            ct);

    /// <summary>Up to <see cref="BatchSize"/> of the customer's events after <paramref name="afterSeq"/>, oldest first (the export's pages; on the writer).</summary>
    public Task<List<CustomerEvent>> OldestFirstAsync(int customerId, long afterSeq, CancellationToken ct) =>
        db.ReadAsync(
            async (connection, token) =>
            {
                await using var command = connection.CreateCommand(SelectOldestFirst)
                    .With("@id", customerId).With("@after", afterSeq).With("@limit", BatchSize);
                return await ReadEventsAsync(command, token);
            },
            preferReplica: false,
            ct);

    /// <summary>Up to <paramref name="limit"/> events with a position after <paramref name="afterPosition"/>, in feed order, read on the writer.</summary>
    public Task<List<CustomerEvent>> FeedAsync(long afterPosition, int limit, CancellationToken ct) =>
        db.ReadAsync(
            async (connection, token) =>
            {
                await using var command = connection.CreateCommand(SelectFeed).With("@after", afterPosition).With("@limit", limit);
                return await ReadEventsAsync(command, token);
            },
            preferReplica: false,
            ct);

    /// <summary>The customer's row whether or not it is deleted, and what is known of the customer (on the writer).</summary>
    public Task<(ExportedCustomer? Row, bool HasRow, bool HasEvents, bool Erased)> DescribeAsync(int customerId, CancellationToken ct) =>
        db.ReadAsync(
            async (connection, token) =>
            {
                ExportedCustomer? row = null;
                await using (var command = connection.CreateCommand(SelectRow).With("@id", customerId))
                await using (var reader = await command.ExecuteReaderAsync(token))
                {
                    if (await reader.ReadAsync(token))
                    {
                        row = new ExportedCustomer(
                            reader.GetInt32(0),
                            reader.GetString(1),
                            reader.GetString(2),
                            reader.IsDBNull(3) ? null : reader.GetString(3),
                            Utc(reader.GetDateTime(4)),
                            Utc(reader.GetDateTime(5)),
                            reader.GetInt32(6),
                            reader.IsDBNull(7) ? null : Utc(reader.GetDateTime(7)));
                    }
                }

                var (hasRow, hasEvents, erased) = await KnownAsync(connection, customerId, token);
                return (row, hasRow, hasEvents, erased);
            },
            preferReplica: false,
            ct);

    /// <summary>Whether there is a row (live or deleted) or any event for the customer.</summary>
    public Task<bool> ExistsAsync(int customerId, CancellationToken ct) =>
        db.ReadAsync(
            async (connection, token) =>
            {
                var (hasRow, hasEvents, _) = await KnownAsync(connection, customerId, token);
                return hasRow || hasEvents;
            },
            preferReplica: true,
            ct);

    /// <summary>
    /// Deletes up to <see cref="BatchSize"/> events that occurred before <paramref name="cutoff"/>, lowest seq first.
    /// Idempotent: what another instance deleted meanwhile is simply not there to delete. Returns how many
    /// were found (a full batch means there may be more).
    /// </summary>
    public Task<int> PurgeBatchAsync(DateTime cutoff, CancellationToken ct) =>
        db.WriteAsync(
            async (connection, token) =>
            {
                var seqs = new List<long>(BatchSize);
                await using (var select = connection.CreateCommand(SelectExpired).With("@cutoff", cutoff).With("@limit", BatchSize))
                await using (var reader = await select.ExecuteReaderAsync(token))
                {
                    while (await reader.ReadAsync(token))
                    {
                        seqs.Add(reader.GetInt64(0));
                    }
                }

                if (seqs.Count > 0)
                {
                    // Our own numbers, not input: safe to write into the statement.
                    await using var delete = connection.CreateCommand(
                        $"DELETE FROM customer_events WHERE seq IN ({string.Join(',', seqs.Select(s => s.ToString(CultureInfo.InvariantCulture)))}) AND occurred_at < @cutoff")
                        .With("@cutoff", cutoff);
                    await delete.ExecuteNonQueryAsync(token);
                }

                return seqs.Count;
            },
            ct,
            idempotent: true);

    private static async Task<(bool HasRow, bool HasEvents, bool Erased)> KnownAsync(DbConnection connection, int customerId, CancellationToken ct)
    {
        await using var command = connection.CreateCommand(SelectKnown).With("@id", customerId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (Flag(reader, 0), Flag(reader, 1), Flag(reader, 2));
    }

    private static bool Flag(DbDataReader reader, int ordinal) => Convert.ToInt64(reader.GetValue(ordinal), CultureInfo.InvariantCulture) != 0;

    private static async Task<List<CustomerEvent>> ReadEventsAsync(DbCommand command, CancellationToken ct)
    {
        var events = new List<CustomerEvent>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            events.Add(ReadEvent(reader));
        }

        return events;
    }

    private static CustomerEvent ReadEvent(DbDataReader reader)
    {
        var erased = !reader.IsDBNull(10);
        var fields = reader.GetString(8);
        var changes = erased
            ? ErasedChanges(fields)
            : reader.IsDBNull(9) ? Empty : ParseChanges(reader.GetString(9));
        return new CustomerEvent(
            reader.GetInt64(0),
            reader.IsDBNull(1) ? null : reader.GetInt64(1),
            reader.GetInt32(2),
            reader.GetString(3),
            Utc(reader.GetDateTime(4)),
            reader.GetString(5),
            reader.IsDBNull(6) ? null : reader.GetString(6),
            reader.GetInt32(7),
            changes,
            erased);
    }

    private static readonly IReadOnlyDictionary<string, FieldChange> Empty = new Dictionary<string, FieldChange>(StringComparer.Ordinal);

    private static readonly FieldChange Erased = new(ErasedValue, ErasedValue);

    private static Dictionary<string, FieldChange> ErasedChanges(string fields) =>
        fields.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Distinct(StringComparer.Ordinal)
            .ToDictionary(f => f, _ => Erased, StringComparer.Ordinal);

    /// <summary><c>{"field": {"before": ..., "after": ...}}</c> as the write side stores it; anything else in it is left out.</summary>
    internal static IReadOnlyDictionary<string, FieldChange> ParseChanges(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return Empty;
            }

            var changes = new Dictionary<string, FieldChange>(StringComparer.Ordinal);
            foreach (var field in document.RootElement.EnumerateObject())
            {
                if (field.Value.ValueKind == JsonValueKind.Object)
                {
                    changes[field.Name] = new FieldChange(Value(field.Value, "before"), Value(field.Value, "after"));
                }
            }

            return changes;
        }
        catch (JsonException)
        {
            return Empty;
        }
    }

    private static string? Value(JsonElement change, string name) =>
        change.TryGetProperty(name, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Null or JsonValueKind.Undefined => null,
                _ => value.GetRawText(),
            }
            : null;

    private static DateTime Utc(DateTime value) => DateTime.SpecifyKind(value, DateTimeKind.Utc);
}
