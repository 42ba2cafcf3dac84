using System.Data.Common;
using System.Globalization;
using System.Text;
using CustomerRecords.Api.Data;

namespace CustomerRecords.Api.Customers;

/// <summary>Bounds of the batched writer.</summary>
internal static class CustomerImportLimits
{
    /// <summary>Most rows a batch may hold: 9 parameters a row stay under MySQL's 65,535 a statement.</summary>
    public const int MaxBatchSize = 5000;
}

/// <summary>What an import does with a row whose email a live customer already holds.</summary>
internal enum ImportConflict
{
    /// <summary>Leave the customer as it is; the row counts as skipped.</summary>
    Skip,

    /// <summary>Apply the row's name and phone to the customer (identical values: unchanged, no write, no event).</summary>
    Update,

    /// <summary>Stop the import: nothing of the batch holding the row is written.</summary>
    Fail,
}

/// <summary>One validated row of an import: its line in the file, the id to keep (when given and free), its fields, the creation time to keep.</summary>
internal sealed record ImportCandidate(long Line, int? Id, CustomerChange Change, DateTime? CreatedAt);

/// <summary>What happened to one row.</summary>
internal enum ImportRowResult
{
    Created,
    Updated,
    Unchanged,
    Skipped,

    /// <summary>Refused by the database's state (its id belongs to another customer).</summary>
    Rejected,
}

/// <summary>A batch's result: one entry per row (in order), the customers it changed (for the cache), and the line a <see cref="ImportConflict.Fail"/> stopped at.</summary>
internal sealed record ImportBatchResult(IReadOnlyList<(ImportCandidate Row, ImportRowResult Result)> Rows, IReadOnlyList<Customer> Updated, long? ConflictLine)
{
    /// <summary>Why a row was <see cref="ImportRowResult.Rejected"/>.</summary>
    public const string IdTaken = "The id belongs to another customer (live or deleted).";
}

/// <summary>
/// The batched writer of <c>import</c> and <c>seed</c>: a batch of rows in one transaction with their history events,
/// in a few round trips (one multi-row INSERT of customers, one of events, one batch of UPDATEs).
/// </summary>
internal sealed partial class CustomerStore
{
    /// <summary>
    /// Whether an import's INSERT answers its rows where the server can (MariaDB, SQLite); off, the new ids are read back
    /// by email key as on MySQL 8, which has no <c>RETURNING</c> — so tests on MariaDB cover MySQL 8's path too.
    /// </summary>
    internal bool InsertReturning { get; set; } = true;

    /// <summary>
    /// Rows per statement: MySQL takes a batch in one (its client substitutes parameters by name in one pass); SQLite
    /// looks each named parameter up in a list, so a statement of thousands of parameters costs their square: small ones.
    /// </summary>
    private int StatementRows => _dialect == SqlDialect.Sqlite ? 50 : CustomerImportLimits.MaxBatchSize;

    /// <summary>
    /// Decides and (unless <paramref name="dryRun"/>) writes one batch. The rows' emails and ids are read first under
    /// lock (FOR UPDATE on MySQL; SQLite's write transaction holds the database), so the decisions hold until commit.
    /// New rows get generated ids answered by the INSERT (<c>RETURNING</c>) or, where the server cannot (MySQL 8),
    /// read back by their email key inside the transaction: no reliance on consecutive auto-increment values.
    /// A batch that loses a race for an email or id to a concurrent write is decided again.
    /// <paramref name="batch"/> holds distinct email keys and distinct ids.
    /// </summary>
    public async Task<ImportBatchResult> ImportBatchAsync(
        IReadOnlyList<ImportCandidate> batch, ImportConflict onConflict, bool dryRun, ChangeContext who, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var result = await db.WriteAsync((connection, token) => ImportBatchOnceAsync(connection, batch, onConflict, dryRun, who, token), ct);
                foreach (var customer in result.Updated)
                {
                    _recent.Add(customer.Id);
                }

                if (!dryRun && result.Rows.Any(r => r.Result is ImportRowResult.Created or ImportRowResult.Updated))
                {
                    activity.Record();
                }

                return result;
            }
            catch (DbException e) when (attempt < 3 && _dialect.IsUniqueViolation(e))
            {
                // A concurrent write took one of the emails or ids between the read and the INSERT: decide again.
            }
        }
    }

    private async Task<ImportBatchResult> ImportBatchOnceAsync(
        DbConnection connection, IReadOnlyList<ImportCandidate> batch, ImportConflict onConflict, bool dryRun, ChangeContext who, CancellationToken ct)
    {
        var now = Now();
        await using var transaction = await connection.BeginAsync(ct);
        var keys = batch.Select(r => CustomerRules.EmailKey(r.Change.Email!)).ToList();
        var holders = new Dictionary<string, Customer>(StringComparer.Ordinal);
        foreach (var row in await LiveByEmailKeyAsync(connection, transaction, keys.Cast<object>().ToList(), ct))
        {
            holders[CustomerRules.EmailKey(row.Email)] = row;
        }

        var ids = batch.Where(r => r.Id is not null).Select(r => (object)r.Id!.Value).ToList();
        var owners = (await ReadManyAsync(connection, transaction, "id", ids, ct)).ToDictionary(r => r.Id);

        var rows = new List<(ImportCandidate, ImportRowResult)>(batch.Count);
        var inserts = new List<(ImportCandidate Row, string Key)>();
        var updates = new List<(Customer Before, Customer After)>();
        for (var i = 0; i < batch.Count; i++)
        {
            var row = batch[i];
            holders.TryGetValue(keys[i], out var holder);
            if (row.Id is { } id && owners.TryGetValue(id, out var owner) && (owner.DeletedAt is not null || holder?.Id != id))
            {
                rows.Add((row, ImportRowResult.Rejected));
                continue;
            }

            if (holder is null)
            {
                inserts.Add((row, keys[i]));
                rows.Add((row, ImportRowResult.Created));
                continue;
            }

            switch (onConflict)
            {
                case ImportConflict.Fail:
                    return new ImportBatchResult(rows, [], row.Line);
                case ImportConflict.Skip:
                    rows.Add((row, ImportRowResult.Skipped));
                    break;
                default:
                    var after = holder with
                    {
                        Name = row.Change.Name!,
                        Phone = row.Change.SetPhone ? row.Change.Phone : holder.Phone,
                        UpdatedAt = now,
                        Version = holder.Version + 1,
                    };
                    if (after.Name == holder.Name && after.Phone == holder.Phone)
                    {
                        rows.Add((row, ImportRowResult.Unchanged));
                    }
                    else
                    {
                        updates.Add((holder, after));
                        rows.Add((row, ImportRowResult.Updated));
                    }

                    break;
            }
        }

        if (dryRun)
        {
            return new ImportBatchResult(rows, [], null);
        }

        var events = new List<(int Id, string Kind, int Version, Customer? Before, Customer After)>(inserts.Count + updates.Count);
        if (inserts.Count > 0)
        {
            // The new rows as stored, with their generated ids: answered by the INSERT where the server can, else read by key.
            var returning = InsertReturning && _dialect.InsertReturnsRows(connection);
            var stored = new List<Customer>(inserts.Count);
            foreach (var chunk in inserts.Chunk(StatementRows))
            {
                await InsertManyAsync(connection, transaction, chunk, now, returning ? stored : null, ct);
            }

            if (!returning)
            {
                stored = await LiveByEmailKeyAsync(connection, transaction, inserts.Select(r => (object)r.Key).ToList(), ct);
            }

            var created = stored.ToDictionary(r => CustomerRules.EmailKey(r.Email), StringComparer.Ordinal);
            foreach (var (row, key) in inserts)
            {
                var customer = created[key];
                events.Add((customer.Id, EventKinds.Created, 1, null, customer));
            }
        }

        if (updates.Count > 0)
        {
            foreach (var chunk in updates.Chunk(StatementRows))
            {
                await UpdateManyAsync(connection, transaction, chunk, now, ct);
            }

            events.AddRange(updates.Select(u => (u.After.Id, EventKinds.Updated, u.After.Version, (Customer?)u.Before, u.After)));
        }

        if (events.Count > 0)
        {
            foreach (var chunk in events.Chunk(StatementRows))
            {
                await CustomerEvents.AppendManyAsync(connection, transaction, chunk, now, who, ct);
            }
        }

        await transaction.CommitAsync(ct);
        return new ImportBatchResult(rows, [.. updates.Select(u => u.After)], null);
    }

    /// <summary>
    /// The live rows holding these email keys. Read by <c>email_key</c> alone and filtered here: with
    /// <c>deleted_at IS NULL</c> in the WHERE, SQLite's planner may pick the <c>deleted_at</c> index and scan every
    /// live row for each statement, which makes a big import quadratic.
    /// </summary>
    private async Task<List<Customer>> LiveByEmailKeyAsync(DbConnection connection, DbTransaction transaction, List<object> keys, CancellationToken ct) =>
        (await ReadManyAsync(connection, transaction, "email_key", keys, ct)).Where(c => c.DeletedAt is null).ToList();

    /// <summary>The rows whose <paramref name="column"/> is one of <paramref name="values"/>, locked.</summary>
    private async Task<List<Customer>> ReadManyAsync(
        DbConnection connection, DbTransaction transaction, string column, List<object> values, CancellationToken ct)
    {
        var found = new List<Customer>(values.Count);
        foreach (var chunk in values.Chunk(StatementRows))
        {
            await ReadChunkAsync(connection, transaction, column, chunk, found, ct);
        }

        return found;
    }

    private async Task ReadChunkAsync(
        DbConnection connection, DbTransaction transaction, string column, object[] values, List<Customer> found, CancellationToken ct)
    {
        await using var command = connection.CreateCommand(string.Empty, transaction);
        var sql = new StringBuilder($"SELECT {Columns} FROM customers WHERE {column} IN (");
        for (var i = 0; i < values.Length; i++)
        {
            sql.Append(i == 0 ? "@v" : ", @v").Append(i.ToString(CultureInfo.InvariantCulture));
            command.With("@v" + i.ToString(CultureInfo.InvariantCulture), values[i]);
        }

        command.CommandText = sql.Append(')').Append(_dialect.ForUpdate).ToString();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            found.Add(ReadCustomer(reader));
        }
    }

    /// <summary>One multi-row INSERT; a null id lets the engine generate one. With <paramref name="returned"/>, the rows as stored are added to it (<c>RETURNING</c>).</summary>
    private static async Task InsertManyAsync(
        DbConnection connection, DbTransaction transaction, (ImportCandidate Row, string Key)[] rows, DateTime now, List<Customer>? returned, CancellationToken ct)
    {
        await using var command = connection.CreateCommand(string.Empty, transaction).With("@now", now);
        var sql = new StringBuilder("INSERT INTO customers (id, name, email, phone, created_at, updated_at, version, email_key, name_key) VALUES ");
        for (var i = 0; i < rows.Length; i++)
        {
            var (row, key) = rows[i];
            var n = i.ToString(CultureInfo.InvariantCulture);
            sql.Append(i == 0 ? "(" : ", (")
                .Append("@i").Append(n).Append(", @n").Append(n).Append(", @e").Append(n).Append(", @p").Append(n)
                .Append(", @c").Append(n).Append(", @now, 1, @k").Append(n).Append(", @nk").Append(n).Append(')');
            command.With("@i" + n, row.Id)
                .With("@n" + n, row.Change.Name)
                .With("@e" + n, row.Change.Email)
                .With("@p" + n, row.Change.Phone)
                .With("@c" + n, row.CreatedAt ?? now)
                .With("@k" + n, key)
                .With("@nk" + n, CustomerRules.NameKey(row.Change.Name!));
        }

        if (returned is null)
        {
            command.CommandText = sql.ToString();
            await command.ExecuteNonQueryAsync(ct);
            return;
        }

        command.CommandText = sql.Append(" RETURNING ").Append(Columns).ToString();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            returned.Add(ReadCustomer(reader));
        }
    }

    /// <summary>The UPDATEs of a batch, sent as one command.</summary>
    private static async Task UpdateManyAsync(DbConnection connection, DbTransaction transaction, (Customer Before, Customer After)[] rows, DateTime now, CancellationToken ct)
    {
        await using var command = connection.CreateCommand(string.Empty, transaction).With("@now", now);
        var sql = new StringBuilder();
        for (var i = 0; i < rows.Length; i++)
        {
            var after = rows[i].After;
            var n = i.ToString(CultureInfo.InvariantCulture);
            sql.Append("UPDATE customers SET name = @n").Append(n).Append(", name_key = @nk").Append(n).Append(", phone = @p").Append(n)
                .Append(", updated_at = @now, version = @v").Append(n).Append(" WHERE id = @i").Append(n).Append(";\n");
            command.With("@n" + n, after.Name)
                .With("@nk" + n, CustomerRules.NameKey(after.Name))
                .With("@p" + n, after.Phone)
                .With("@v" + n, after.Version)
                .With("@i" + n, after.Id);
        }

        command.CommandText = sql.ToString();
        await command.ExecuteNonQueryAsync(ct);
    }
}
