using System.Data.Common;
using System.Text;
using CustomerRecords.Api.Data;

namespace CustomerRecords.Api.Customers;

/// <summary>List pages: keyset reads of the customer indexes (see <see cref="CustomerListQuery"/>).</summary>
internal sealed partial class CustomerStore
{
    public Task<CustomerPage> ListAsync(CustomerListQuery query, CancellationToken ct) =>
        db.ReadAsync((connection, token) => ListAsync(connection, query, token), preferReplica: true, ct);

    private async Task<CustomerPage> ListAsync(DbConnection connection, CustomerListQuery query, CancellationToken ct)
    {
        await using var command = BuildListCommand(connection, query, _dialect);
        var items = new List<Customer>(Math.Min(query.Limit + 1, 64));
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                items.Add(ReadCustomer(reader));
            }
        }

        string? next = null;
        if (items.Count > query.Limit)
        {
            items.RemoveAt(items.Count - 1);
            next = CustomerCursor.After(query.Sort, items[^1]).Encode();
        }

        return new CustomerPage(items, next);
    }

    /// <summary>The keyset-page SQL for <paramref name="query"/>: fixed fragments chosen by the validated query, values as parameters.</summary>
    internal static DbCommand BuildListCommand(DbConnection connection, CustomerListQuery query, SqlDialect dialect)
    {
        var sql = new StringBuilder($"SELECT {Columns} FROM customers");
        var conditions = new List<string>(3);
        var command = connection.CreateCommand(string.Empty);

        if (query.EmailKey is not null)
        {
            conditions.Add("email_key = @email_key");
            command.With("@email_key", query.EmailKey);
        }

        if (query.Prefix is not null)
        {
            // A range on the lower-cased keys is a prefix match every engine answers from an index.
            conditions.Add("((name_key >= @prefix AND name_key < @prefix_end) OR (email_key >= @prefix AND email_key < @prefix_end))");
            command.With("@prefix", query.Prefix).With("@prefix_end", query.Prefix + char.ConvertFromUtf32(0x10FFFF));
        }

        var (keyColumn, descending) = query.Sort switch
        {
            CustomerSort.IdAscending => ((string?)null, false),
            CustomerSort.IdDescending => (null, true),
            CustomerSort.NameAscending => ("name_key", false),
            CustomerSort.NameDescending => ("name_key", true),
            CustomerSort.CreatedAtAscending => ("created_at", false),
            _ => ("created_at", true),
        };
        var (op, opOrEqual, direction) = descending ? ("<", "<=", " DESC") : (">", ">=", string.Empty);

        // Unfiltered, the page is the first rows of the (key, id) index. MySQL's cost model can
        // prefer scan + filesort on a small or freshly analysed table; on a big one that would read
        // every row per page, so the index is named. With a filter the optimizer picks the filter's index.
        if (keyColumn is not null && query.EmailKey is null && query.Prefix is null)
        {
            sql.Append(dialect.OrderIndexHint(keyColumn == "name_key" ? "ix_customers_name_key" : "ix_customers_created_at"));
        }

        if (query.After is { } after)
        {
            command.With("@after_id", after.Id);
            if (keyColumn is null)
            {
                conditions.Add($"id {op} @after_id");
            }
            else
            {
                // Written as a range plus a tie-break rather than a row comparison so that MySQL,
                // MariaDB and SQLite all seek the (key, id) index: a deep page costs what the first does.
                conditions.Add($"{keyColumn} {opOrEqual} @after_key AND ({keyColumn} {op} @after_key OR id {op} @after_id)");
                command.With("@after_key", (object?)after.NameKey ?? after.CreatedAt);
            }
        }

        if (conditions.Count > 0)
        {
            sql.Append(" WHERE ").AppendJoin(" AND ", conditions);
        }

        sql.Append(" ORDER BY ");
        if (keyColumn is not null)
        {
            sql.Append(keyColumn).Append(direction).Append(", ");
        }

        sql.Append("id").Append(direction).Append(" LIMIT @limit");
        command.With("@limit", query.Limit + 1);
        command.CommandText = sql.ToString();
        return command;
    }
}
