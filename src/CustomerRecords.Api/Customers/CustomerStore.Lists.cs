using System.Data.Common;
using System.Globalization;
using System.Text;
using CustomerRecords.Api.Data;

namespace CustomerRecords.Api.Customers;

/// <summary>List pages: keyset reads of the customer indexes (see <see cref="CustomerListQuery"/>).</summary>
internal sealed partial class CustomerStore
{
    /// <summary>
    /// InnoDB's own row estimate for the table (all rows, soft-deleted ones too; refreshed by its statistics,
    /// so it lags writes). NULL when the engine has none.
    /// </summary>
    private const string EstimateRows =
        "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'customers'";

    public Task<CustomerPage> ListAsync(CustomerListQuery query, CancellationToken ct) =>
        db.ReadAsync((connection, token) => ListAsync(connection, query, _dialect, token), preferReplica: true, ct);

    private static async Task<CustomerPage> ListAsync(DbConnection connection, CustomerListQuery query, SqlDialect dialect, CancellationToken ct)
    {
        var items = new List<Customer>(Math.Min(query.Limit + 1, 64));
        await using (var command = BuildListCommand(connection, query, dialect))
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

        long? total = query.Count == CustomerCount.None ? null : await CountAsync(connection, query, dialect, ct);
        return new CustomerPage(items, next, total);
    }

    /// <summary>
    /// <c>total</c>: the table statistics when an estimate was asked for and MySQL has one for the whole live
    /// listing; otherwise <c>COUNT(*)</c> with the page's filters (not its cursor).
    /// </summary>
    private static async Task<long> CountAsync(DbConnection connection, CustomerListQuery query, SqlDialect dialect, CancellationToken ct)
    {
        if (query is { Count: CustomerCount.Estimated, State: CustomerState.Live, Filtered: false } && dialect == SqlDialect.MySql)
        {
            await using var estimate = connection.CreateCommand(EstimateRows);
            if (await estimate.ExecuteScalarAsync(ct) is { } rows and not DBNull)
            {
                return Convert.ToInt64(rows, CultureInfo.InvariantCulture);
            }
        }

        await using var command = BuildCountCommand(connection, query, dialect);
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
    }

    /// <summary>The <c>COUNT(*)</c> of the rows <paramref name="query"/> lists, on every page (the cursor is ignored).</summary>
    internal static DbCommand BuildCountCommand(DbConnection connection, CustomerListQuery query, SqlDialect dialect)
    {
        var command = connection.CreateCommand(string.Empty);
        var conditions = Filters(command, query, dialect, counting: true);
        command.CommandText = "SELECT COUNT(*) FROM customers WHERE " + string.Join(" AND ", conditions);
        return command;
    }

    /// <summary>The keyset-page SQL for <paramref name="query"/>: fixed fragments chosen by the validated query, values as parameters.</summary>
    internal static DbCommand BuildListCommand(DbConnection connection, CustomerListQuery query, SqlDialect dialect)
    {
        var sql = new StringBuilder($"SELECT {Columns} FROM customers");
        var command = connection.CreateCommand(string.Empty);
        var conditions = Filters(command, query, dialect, counting: false);

        var (keyColumn, index, descending) = query.Sort switch
        {
            CustomerSort.IdAscending => ((string?)null, (string?)null, false),
            CustomerSort.IdDescending => (null, null, true),
            CustomerSort.NameAscending => ("name_key", "ix_customers_name_key", false),
            CustomerSort.NameDescending => ("name_key", "ix_customers_name_key", true),
            CustomerSort.CreatedAtAscending => ("created_at", "ix_customers_created_at", false),
            CustomerSort.CreatedAtDescending => ("created_at", "ix_customers_created_at", true),
            CustomerSort.UpdatedAtAscending => ("updated_at", "ix_customers_updated_at", false),
            CustomerSort.UpdatedAtDescending => ("updated_at", "ix_customers_updated_at", true),
            CustomerSort.DeletedAtAscending => ("deleted_at", "ix_customers_deleted_at", false),
            _ => ("deleted_at", "ix_customers_deleted_at", true),
        };
        var (op, opOrEqual, direction) = descending ? ("<", "<=", " DESC") : (">", ">=", string.Empty);

        // Unfiltered, the page is the first rows of the (key, id) index. MySQL's cost model can
        // prefer scan + filesort on a small or freshly analysed table (or, now, the deleted_at index,
        // where every live row has the same key); on a big one that would read every row per page,
        // so the index is named. With an email or search filter the optimizer picks the filter's index.
        if (index is not null && query.EmailKey is null && query.Prefix is null && query.PhonePrefix is null)
        {
            sql.Append(dialect.OrderIndexHint(index));
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
                command.With("@after_key", (object?)after.NameKey ?? after.At);
            }
        }

        sql.Append(" WHERE ").AppendJoin(" AND ", conditions).Append(" ORDER BY ");
        if (keyColumn is not null)
        {
            sql.Append(keyColumn).Append(direction).Append(", ");
        }

        sql.Append("id").Append(direction).Append(" LIMIT @limit");
        command.With("@limit", query.Limit + 1);
        command.CommandText = sql.ToString();
        return command;
    }

    /// <summary>The state and the filters of <paramref name="query"/> as conditions, their values added to <paramref name="command"/>.</summary>
    private static List<string> Filters(DbCommand command, CustomerListQuery query, SqlDialect dialect, bool counting)
    {
        var conditions = new List<string>(6);
        var mySql = dialect == SqlDialect.MySql;
        var live = query.State == CustomerState.Live;

        if (query.EmailKey is not null)
        {
            // Live email lookups on MySQL read the unique index on live_email_key (NULL once deleted, so no
            // deleted_at test is needed); SQLite's partial unique index has the same rows under email_key.
            conditions.Add(live && mySql ? "live_email_key = @email_key" : "email_key = @email_key");
            command.With("@email_key", query.EmailKey);
            if (!live)
            {
                conditions.Add("deleted_at IS NOT NULL");
            }
            else if (!mySql)
            {
                conditions.Add("deleted_at IS NULL");
            }
        }
        else if (live)
        {
            // Every live row has the same deleted_at (NULL), so ix_customers_deleted_at cannot order a page.
            // SQLite, without statistics, would still take `deleted_at IS NULL` for a selective equality on that
            // index and sort the rows; the unary + keeps the term off every index there. An unfiltered count is
            // the exception: it is answered from that index alone. MySQL is steered by the named index instead.
            var plain = mySql || (counting && query.Prefix is null && query.UpdatedSince is null && query.PhonePrefix is null);
            conditions.Add(plain ? "deleted_at IS NULL" : "+deleted_at IS NULL");
        }
        else
        {
            conditions.Add("deleted_at IS NOT NULL");
        }

        if (query.Prefix is not null)
        {
            // A range on the lower-cased keys is a prefix match every engine answers from an index.
            conditions.Add("((name_key >= @prefix AND name_key < @prefix_end) OR (email_key >= @prefix AND email_key < @prefix_end))");
            command.With("@prefix", query.Prefix).With("@prefix_end", query.Prefix + char.ConvertFromUtf32(0x10FFFF));
        }

        if (query.PhonePrefix is not null)
        {
            // The digits prefix as a range on (phone_key, id), like q's: every engine seeks it.
            conditions.Add("phone_key >= @phone AND phone_key < @phone_end");
            command.With("@phone", query.PhonePrefix).With("@phone_end", query.PhonePrefix + char.ConvertFromUtf32(0x10FFFF));
        }

        if (query.UpdatedSince is { } since)
        {
            conditions.Add("updated_at >= @updated_since");
            command.With("@updated_since", since);
        }

        return conditions;
    }
}
