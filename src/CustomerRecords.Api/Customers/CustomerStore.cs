using System.Data.Common;
using System.Globalization;
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
internal sealed partial class CustomerStore(ResilientDb db, IdempotencyStore idempotency, TimeProvider clock, IOptions<DatabaseOptions> options)
{
    private const string Columns = "id, name, email, phone, created_at, updated_at, version, deleted_at";

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
        reader.GetInt32(6),
        reader.IsDBNull(7) ? null : DateTime.SpecifyKind(reader.GetDateTime(7), DateTimeKind.Utc));

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
