using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using CustomerRecords.Api.Data;
using CustomerRecords.Api.Idempotency;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Api.Customers;

/// <summary>Outcome of a write that can miss, conflict or lose a version race.</summary>
internal enum WriteStatus
{
    Done,
    NotFound,
    VersionMismatch,
    DuplicateEmail,
}

internal readonly record struct WriteOutcome(WriteStatus Status, Customer? Customer = null);

/// <summary>
/// All customer SQL. Every operation runs through <see cref="ResilientDb"/>: a pooled connection per
/// attempt, retries only where they cannot apply a write twice. Reads go to the replica when there
/// is one, except reads of customers this instance wrote within <see cref="DatabaseOptions.ReadYourWritesWindow"/>.
/// </summary>
internal sealed class CustomerStore(ResilientDb db, IdempotencyStore idempotency, TimeProvider clock, IOptions<DatabaseOptions> options)
{
    private const string Columns = "id, name, email, phone, created_at, updated_at, version";

    private const string SelectById = $"SELECT {Columns} FROM customers WHERE id = @id";

    private const string SelectVersion = "SELECT version FROM customers WHERE id = @id";

    // A merge patch in one statement: absent fields keep their value (COALESCE), so two clients
    // patching different fields never overwrite each other, and @expected makes If-Match atomic.
    private const string UpdateById = """
        UPDATE customers SET
            name = COALESCE(@name, name),
            name_key = COALESCE(@name_key, name_key),
            email = COALESCE(@email, email),
            email_key = COALESCE(@email_key, email_key),
            phone = CASE WHEN @set_phone = 1 THEN @phone ELSE phone END,
            updated_at = @now,
            version = version + 1
        WHERE id = @id AND (@expected IS NULL OR version = @expected)
        """;

    private const string Insert = """
        INSERT INTO customers (name, email, phone, created_at, updated_at, version, email_key, name_key)
        VALUES (@name, @email, @phone, @now, @now, 1, @email_key, @name_key)
        """;

    private const string DeleteById = "DELETE FROM customers WHERE id = @id AND (@expected IS NULL OR version = @expected)";

    private readonly SqlDialect _dialect = db.Dialect;
    private readonly string _insertReturningId = db.Dialect.ReturningId(Insert);
    private readonly RecentWrites _recent = new(clock, options.Value.ReadYourWritesWindow);

    public Task<Customer?> GetAsync(int id, CancellationToken ct) =>
        db.ReadAsync((connection, token) => ReadByIdAsync(connection, id, token), preferReplica: !_recent.Contains(id), ct);

    /// <summary>Reads from the writer: for callers that must see the latest commit, whatever the replicas say.</summary>
    public Task<Customer?> GetFromWriterAsync(int id, CancellationToken ct) =>
        db.ReadAsync((connection, token) => ReadByIdAsync(connection, id, token), preferReplica: false, ct);

    private static async Task<Customer?> ReadByIdAsync(DbConnection connection, int id, CancellationToken ct)
    {
        await using var command = connection.CreateCommand(SelectById).With("@id", id);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? ReadCustomer(reader) : null;
    }

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

    /// <summary>Creates a customer. Not retried once the INSERT may have reached the server: a blind retry could create it twice.</summary>
    public async Task<WriteOutcome> CreateAsync(CustomerChange change, CancellationToken ct)
    {
        var now = Now();
        var outcome = await db.WriteAsync((connection, token) => InsertAsync(connection, null, change, now, token), ct);
        Remember(outcome);
        return outcome;
    }

    /// <summary>
    /// A create under an <c>Idempotency-Key</c>: at most one row per key, and a repeat with the same body
    /// gets the first answer (see <see cref="IdempotencyStore"/>).
    /// </summary>
    public async Task<OnceResult<WriteOutcome>> CreateOnceAsync(IdempotentRequest request, CustomerChange change, CancellationToken ct)
    {
        var now = Now();
        var result = await idempotency.RunOnceAsync(
            request,
            (connection, transaction, token) => InsertAsync(connection, transaction, change, now, token),
            CreateAnswers.Instance,
            ct);
        if (result.State == OnceState.Applied)
        {
            Remember(result.Value);
        }

        return result;
    }

    /// <summary>The INSERT of one validated customer with its keys; also what seeds a new database.</summary>
    internal DbCommand CreateInsertCommand(DbConnection connection, DbTransaction? transaction, CustomerChange change, DateTime now) =>
        connection.CreateCommand(_insertReturningId, transaction)
            .With("@name", change.Name)
            .With("@email", change.Email)
            .With("@phone", change.Phone)
            .With("@now", now)
            .With("@email_key", CustomerRules.EmailKey(change.Email!))
            .With("@name_key", CustomerRules.NameKey(change.Name!));

    private async Task<WriteOutcome> InsertAsync(DbConnection connection, DbTransaction? transaction, CustomerChange change, DateTime now, CancellationToken ct)
    {
        await using var command = CreateInsertCommand(connection, transaction, change, now);
        try
        {
            var id = Convert.ToInt32(await command.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
            return new WriteOutcome(WriteStatus.Done, new Customer(id, change.Name!, change.Email!, change.Phone, now, now, 1));
        }
        catch (DbException e) when (_dialect.IsUniqueViolation(e))
        {
            return new WriteOutcome(WriteStatus.DuplicateEmail);
        }
    }

    /// <summary>Applies <paramref name="change"/>; with <paramref name="expectedVersion"/> only if the row still has it.</summary>
    public async Task<WriteOutcome> UpdateAsync(int id, CustomerChange change, int? expectedVersion, CancellationToken ct)
    {
        var now = Now();
        var outcome = await db.WriteAsync((connection, token) => UpdateAsync(connection, id, change, expectedVersion, now, token), ct);
        Remember(outcome);
        return outcome;
    }

    private async Task<WriteOutcome> UpdateAsync(DbConnection connection, int id, CustomerChange change, int? expectedVersion, DateTime now, CancellationToken ct)
    {
        await using var transaction = await connection.BeginTransactionAsync(ct);
        int affected;
        await using (var command = connection.CreateCommand(UpdateById, transaction)
            .With("@id", id)
            .With("@expected", expectedVersion)
            .With("@name", change.Name)
            .With("@name_key", change.Name is null ? null : CustomerRules.NameKey(change.Name))
            .With("@email", change.Email)
            .With("@email_key", change.Email is null ? null : CustomerRules.EmailKey(change.Email))
            .With("@set_phone", change.SetPhone ? 1 : 0)
            .With("@phone", change.Phone)
            .With("@now", now))
        {
            try
            {
                affected = await command.ExecuteNonQueryAsync(ct);
            }
            catch (DbException e) when (_dialect.IsUniqueViolation(e))
            {
                return new WriteOutcome(WriteStatus.DuplicateEmail);
            }
        }

        if (affected == 0)
        {
            return new WriteOutcome(await MissStatusAsync(connection, transaction, id, expectedVersion, ct));
        }

        // Read back inside the transaction: the row is locked by our update, so this is exactly what we wrote.
        Customer updated;
        await using (var select = connection.CreateCommand(SelectById, transaction).With("@id", id))
        await using (var reader = await select.ExecuteReaderAsync(ct))
        {
            await reader.ReadAsync(ct);
            updated = ReadCustomer(reader);
        }

        await transaction.CommitAsync(ct);
        return new WriteOutcome(WriteStatus.Done, updated);
    }

    public async Task<WriteStatus> DeleteAsync(int id, int? expectedVersion, CancellationToken ct)
    {
        var status = await db.WriteAsync(
            async (connection, token) =>
            {
                await using var command = connection.CreateCommand(DeleteById).With("@id", id).With("@expected", expectedVersion);
                return await command.ExecuteNonQueryAsync(token) > 0
                    ? WriteStatus.Done
                    : await MissStatusAsync(connection, null, id, expectedVersion, token);
            },
            ct);
        if (status == WriteStatus.Done)
        {
            _recent.Add(id);
        }

        return status;
    }

    /// <summary>The current version of a row read on the writer, or null when there is none.</summary>
    public Task<int?> GetVersionAsync(int id, CancellationToken ct) =>
        db.ReadAsync((connection, token) => ReadVersionAsync(connection, null, id, token), preferReplica: false, ct);

    private void Remember(WriteOutcome outcome)
    {
        if (outcome.Customer is { } customer)
        {
            _recent.Add(customer.Id);
        }
    }

    /// <summary>A conditional write touched nothing: the row is gone, or its version moved on.</summary>
    private static async Task<WriteStatus> MissStatusAsync(DbConnection connection, DbTransaction? transaction, int id, int? expectedVersion, CancellationToken ct) =>
        expectedVersion is null || await ReadVersionAsync(connection, transaction, id, ct) is null
            ? WriteStatus.NotFound
            : WriteStatus.VersionMismatch;

    private static async Task<int?> ReadVersionAsync(DbConnection connection, DbTransaction? transaction, int id, CancellationToken ct)
    {
        await using var command = connection.CreateCommand(SelectVersion, transaction).With("@id", id);
        var value = await command.ExecuteScalarAsync(ct);
        return value is null or DBNull ? null : Convert.ToInt32(value, CultureInfo.InvariantCulture);
    }

    private static Customer ReadCustomer(DbDataReader reader) => new(
        reader.GetInt32(0),
        reader.GetString(1),
        reader.GetString(2),
        reader.IsDBNull(3) ? null : reader.GetString(3),
        DateTime.SpecifyKind(reader.GetDateTime(4), DateTimeKind.Utc),
        DateTime.SpecifyKind(reader.GetDateTime(5), DateTimeKind.Utc),
        reader.GetInt32(6));

    internal DateTime Now() => StoredClock.Now(clock);

    /// <summary>A create's answer as stored with its key: the outcome, and the created customer as JSON.</summary>
    private sealed class CreateAnswers : IAnswerCodec<WriteOutcome>
    {
        public static readonly CreateAnswers Instance = new();

        private const string Created = "created";
        private const string DuplicateEmail = "duplicate-email";

        public StoredAnswer Encode(WriteOutcome answer) => answer.Status == WriteStatus.Done
            ? new StoredAnswer(Created, JsonSerializer.Serialize(answer.Customer!, CustomerJsonContext.Default.Customer))
            : new StoredAnswer(DuplicateEmail, null);

        public WriteOutcome Decode(StoredAnswer stored) => stored.Outcome == Created
            ? new WriteOutcome(WriteStatus.Done, JsonSerializer.Deserialize(stored.Body!, CustomerJsonContext.Default.Customer))
            : new WriteOutcome(WriteStatus.DuplicateEmail);
    }
}
