using System.Data.Common;
using CustomerRecords.Api.Data;

namespace CustomerRecords.Api.Customers;

/// <summary>The SQL of a bulk export: a count and a keyset walk by id, both run inside the export's snapshot transaction.</summary>
internal sealed partial class CustomerStore
{
    /// <summary>How many live customers (changed at or after <paramref name="updatedSince"/>, when given) the snapshot holds.</summary>
    internal static DbCommand BuildExportCountCommand(DbConnection connection, DbTransaction transaction, SqlDialect dialect, DateTime? updatedSince)
    {
        var command = BuildCountCommand(
            connection, new CustomerListQuery(1, CustomerSort.IdAscending, null, null, null, CustomerState.Live, updatedSince), dialect);
        command.Transaction = transaction;
        return command;
    }

    /// <summary>
    /// The next <paramref name="batch"/> live customers after id <paramref name="afterId"/>, in id order. The walk reads
    /// the primary key in order whatever the filters (MySQL is told; on SQLite the unary <c>+</c> keeps the filter terms
    /// off their indexes), so every batch is a short range scan and the whole export one pass over the table.
    /// </summary>
    internal static DbCommand BuildExportBatchCommand(
        DbConnection connection, DbTransaction transaction, SqlDialect dialect, DateTime? updatedSince, int afterId, int batch)
    {
        var mySql = dialect == SqlDialect.MySql;
        var filter = mySql ? "deleted_at IS NULL" : "+deleted_at IS NULL";
        if (updatedSince is not null)
        {
            filter += mySql ? " AND updated_at >= @updated_since" : " AND +updated_at >= @updated_since";
        }

        var command = connection.CreateCommand(
            $"SELECT {Columns} FROM customers{dialect.OrderIndexHint("PRIMARY")} WHERE id > @after_id AND {filter} ORDER BY id LIMIT @batch",
            transaction)
            .With("@after_id", afterId)
            .With("@batch", batch);
        if (updatedSince is { } since)
        {
            command.With("@updated_since", since);
        }

        return command;
    }

    /// <summary>One row of <see cref="BuildExportBatchCommand"/>.</summary>
    internal static Customer ReadExportedRow(DbDataReader reader) => ReadCustomer(reader);
}
