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

    /// <summary>A restore of a customer that is not deleted.</summary>
    NotDeleted,

    /// <summary>A restore of a customer deleted longer ago than <see cref="CustomersOptions.RestoreWindow"/>.</summary>
    RestoreWindowPassed,
}

internal readonly record struct WriteOutcome(WriteStatus Status, Customer? Customer = null);

/// <summary>
/// All customer SQL. Every operation runs through <see cref="ResilientDb"/>: a pooled connection per
/// attempt, retries only where they cannot apply a write twice. Reads go to the replica when there
/// is one, except reads of customers this instance wrote within <see cref="DatabaseOptions.ReadYourWritesWindow"/>.
/// </summary>
internal sealed partial class CustomerStore(
    ResilientDb db,
    IdempotencyStore idempotency,
    TimeProvider clock,
    IOptions<DatabaseOptions> options,
    IOptions<CustomersOptions> customers,
    WriteActivity activity)
{
    private const string Columns = "id, name, email, phone, created_at, updated_at, version, deleted_at";

    // Reads see live rows only: a soft-deleted customer is gone for every read path until it is restored.
    private const string SelectById = $"SELECT {Columns} FROM customers WHERE id = @id AND deleted_at IS NULL";

    private const string SelectVersion = "SELECT version FROM customers WHERE id = @id AND deleted_at IS NULL";

    // Every write reads the row it changes first, under a row lock (the whole database on SQLite), so the
    // history event holds exactly what changed, and two patches of different fields never lose one another.
    private const string SelectAnyById = $"SELECT {Columns} FROM customers WHERE id = @id";

    private const string UpdateById = """
        UPDATE customers SET
            name = @name, name_key = @name_key, email = @email, email_key = @email_key, phone = @phone,
            updated_at = @now, version = @version
        WHERE id = @id
        """;

    private const string Insert = """
        INSERT INTO customers (name, email, phone, created_at, updated_at, version, email_key, name_key)
        VALUES (@name, @email, @phone, @now, @now, 1, @email_key, @name_key)
        """;

    private const string SetDeletedAt = "UPDATE customers SET deleted_at = @deleted_at, updated_at = @now, version = @version WHERE id = @id";

    private readonly SqlDialect _dialect = db.Dialect;
    private readonly string _insertReturningId = db.Dialect.ReturningId(Insert);
    private readonly string _selectForUpdate = SelectAnyById + db.Dialect.ForUpdate;
    private readonly TimeSpan _restoreWindow = customers.Value.RestoreWindow;
    private readonly RecentWrites _recent = new(clock, options.Value.ReadYourWritesWindow);

    public Task<Customer?> GetAsync(int id, CancellationToken ct) =>
        db.ReadAsync((connection, token) => ReadByIdAsync(connection, id, token), preferReplica: !_recent.Contains(id), ct);

    private static async Task<Customer?> ReadByIdAsync(DbConnection connection, int id, CancellationToken ct)
    {
        await using var command = connection.CreateCommand(SelectById).With("@id", id);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? ReadCustomer(reader) : null;
    }

    /// <summary>Creates a customer. Not retried once the INSERT may have reached the server: a blind retry could create it twice.</summary>
    public async Task<WriteOutcome> CreateAsync(CustomerChange change, ChangeContext who, CancellationToken ct)
    {
        var now = Now();
        var outcome = await db.WriteAsync(
            async (connection, token) =>
            {
                await using var transaction = await connection.BeginAsync(token);
                var outcome = await InsertAsync(connection, transaction, change, now, who, token);
                if (outcome.Status == WriteStatus.Done)
                {
                    await transaction.CommitAsync(token);
                }

                return outcome;
            },
            ct);
        Remember(outcome);
        return outcome;
    }

    /// <summary>
    /// A create under an <c>Idempotency-Key</c>: at most one row per key, and a repeat with the same body
    /// gets the first answer (see <see cref="IdempotencyStore"/>).
    /// </summary>
    public async Task<OnceResult<WriteOutcome>> CreateOnceAsync(IdempotentRequest request, CustomerChange change, ChangeContext who, CancellationToken ct)
    {
        var now = Now();
        var result = await idempotency.RunOnceAsync(
            request,
            (connection, transaction, token) => InsertAsync(connection, transaction, change, now, who, token),
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

    /// <summary>Inserts the customer and its <c>created</c> event in one round trip; commits nothing (the caller owns the transaction).</summary>
    internal async Task<WriteOutcome> InsertAsync(
        DbConnection connection, DbTransaction transaction, CustomerChange change, DateTime now, ChangeContext who, CancellationToken ct)
    {
        var created = new Customer(0, change.Name!, change.Email!, change.Phone, now, now, 1);
        await using var command = CustomerEvents.AddTo(
            CreateInsertCommand(connection, transaction, change, now), _dialect.LastInsertId, EventKinds.Created, 1, now, who, null, created);
        try
        {
            var id = Convert.ToInt32(await command.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
            return new WriteOutcome(WriteStatus.Done, created with { Id = id });
        }
        catch (DbException e) when (_dialect.IsUniqueViolation(e))
        {
            return new WriteOutcome(WriteStatus.DuplicateEmail);
        }
    }

    /// <summary>Applies <paramref name="change"/>; with <paramref name="expectedVersion"/> only if the row still has it.</summary>
    public async Task<WriteOutcome> UpdateAsync(int id, CustomerChange change, int? expectedVersion, ChangeContext who, CancellationToken ct)
    {
        var now = Now();
        var outcome = await db.WriteAsync(
            (connection, token) => ChangeLiveAsync(connection, id, expectedVersion, async (transaction, before) =>
            {
                var after = before with
                {
                    Name = change.Name ?? before.Name,
                    Email = change.Email ?? before.Email,
                    Phone = change.SetPhone ? change.Phone : before.Phone,
                    UpdatedAt = now,
                    Version = before.Version + 1,
                };
                // The UPDATE and its event in one round trip.
                await using (var command = CustomerEvents.AddTo(
                    connection.CreateCommand(UpdateById, transaction)
                        .With("@id", id)
                        .With("@name", after.Name)
                        .With("@name_key", CustomerRules.NameKey(after.Name))
                        .With("@email", after.Email)
                        .With("@email_key", CustomerRules.EmailKey(after.Email))
                        .With("@phone", after.Phone)
                        .With("@now", now)
                        .With("@version", after.Version),
                    "@id", EventKinds.Updated, after.Version, now, who, before, after))
                {
                    try
                    {
                        await command.ExecuteNonQueryAsync(token);
                    }
                    catch (DbException e) when (_dialect.IsUniqueViolation(e))
                    {
                        return new WriteOutcome(WriteStatus.DuplicateEmail);
                    }
                }

                return new WriteOutcome(WriteStatus.Done, after);
            }, token),
            ct);
        Remember(outcome);
        return outcome;
    }

    /// <summary>Soft-deletes a live customer: hidden from every read until restored or purged. The outcome's customer is the deleted row.</summary>
    public async Task<WriteOutcome> DeleteAsync(int id, int? expectedVersion, ChangeContext who, CancellationToken ct)
    {
        var now = Now();
        var outcome = await db.WriteAsync(
            (connection, token) => ChangeLiveAsync(connection, id, expectedVersion, (transaction, before) =>
                SetDeletedAtAsync(connection, transaction, before with { UpdatedAt = now, Version = before.Version + 1, DeletedAt = now }, EventKinds.Deleted, who, token),
                token),
            ct);
        Remember(outcome);
        return outcome;
    }

    /// <summary>Brings back a customer deleted within <see cref="CustomersOptions.RestoreWindow"/>, with its id; its email must be free among live customers.</summary>
    public async Task<WriteOutcome> RestoreAsync(int id, ChangeContext who, CancellationToken ct)
    {
        var now = Now();
        var outcome = await db.WriteAsync(
            (connection, token) => ChangeAsync(connection, id, async (transaction, before) =>
            {
                if (before.DeletedAt is not { } deletedAt)
                {
                    return new WriteOutcome(WriteStatus.NotDeleted);
                }

                if (deletedAt < now - _restoreWindow)
                {
                    return new WriteOutcome(WriteStatus.RestoreWindowPassed);
                }

                return await SetDeletedAtAsync(connection, transaction, before with { UpdatedAt = now, Version = before.Version + 1, DeletedAt = null }, EventKinds.Restored, who, token);
            }, token),
            ct);
        Remember(outcome);
        return outcome;
    }

    /// <summary>
    /// Erases the customer's personal data everywhere the database holds it, in one transaction: the row (live or
    /// deleted), the values in its history (the events stay, without values) and the stored answers of the
    /// <c>Idempotency-Key</c>s that created it; then appends an <c>erased</c> event. A customer already erased is
    /// answered <see cref="WriteStatus.Done"/> again without a second event; one never seen is not found.
    /// </summary>
    public async Task<WriteStatus> EraseAsync(int id, ChangeContext who, CancellationToken ct)
    {
        var now = Now();
        var status = await db.WriteAsync(
            async (connection, token) =>
            {
                await using var transaction = await connection.BeginAsync(token);
                var row = await ReadForUpdateAsync(connection, transaction, id, token);
                var scrubbed = await CustomerEvents.ScrubAsync(connection, transaction, id, now, token);
                var lastVersion = await LastEventVersionAsync(connection, transaction, id, token);
                if (row is null && lastVersion is null)
                {
                    return WriteStatus.NotFound;
                }

                if (row is null && scrubbed == 0 && await LastEventKindAsync(connection, transaction, id, token) == EventKinds.Erased)
                {
                    return WriteStatus.Done;
                }

                if (row is not null)
                {
                    await using var delete = connection.CreateCommand("DELETE FROM customers WHERE id = @id", transaction).With("@id", id);
                    await delete.ExecuteNonQueryAsync(token);
                }

                await IdempotencyStore.ScrubAsync(connection, transaction, id, token);
                var version = Math.Max(row?.Version ?? 0, lastVersion ?? 0) + 1;
                await CustomerEvents.AppendAsync(connection, transaction, id, EventKinds.Erased, version, now, who, null, null, token);
                await CustomerEvents.ScrubAsync(connection, transaction, id, now, token); // marks the erased event itself
                await transaction.CommitAsync(token);
                return WriteStatus.Done;
            },
            ct);
        if (status == WriteStatus.Done)
        {
            _recent.Add(id);
            activity.Record();
        }

        return status;
    }

    /// <summary>
    /// Removes for good up to <paramref name="batch"/> customers deleted before <paramref name="cutoff"/>, each with a
    /// <c>purged</c> event. Safe with several instances purging at once: the rows are locked, and a row another
    /// instance removed first is simply no longer there. Answers how many this call removed.
    /// </summary>
    public Task<int> PurgeDeletedAsync(DateTime cutoff, int batch, CancellationToken ct) =>
        db.WriteAsync(
            async (connection, token) =>
            {
                var now = Now();
                await using var transaction = await connection.BeginAsync(token);
                var due = new List<(int Id, int Version)>();
                await using (var select = connection.CreateCommand(
                    $"SELECT id, version FROM customers WHERE deleted_at IS NOT NULL AND deleted_at < @cutoff ORDER BY deleted_at, id LIMIT @batch{_dialect.ForUpdate}", transaction)
                    .With("@cutoff", cutoff).With("@batch", batch))
                await using (var reader = await select.ExecuteReaderAsync(token))
                {
                    while (await reader.ReadAsync(token))
                    {
                        due.Add((reader.GetInt32(0), reader.GetInt32(1)));
                    }
                }

                foreach (var (id, version) in due)
                {
                    await using var delete = connection.CreateCommand("DELETE FROM customers WHERE id = @id AND deleted_at IS NOT NULL", transaction).With("@id", id);
                    if (await delete.ExecuteNonQueryAsync(token) == 1)
                    {
                        await CustomerEvents.AppendAsync(connection, transaction, id, EventKinds.Purged, version + 1, now, ChangeContext.System, null, null, token);
                    }
                }

                await transaction.CommitAsync(token);
                if (due.Count > 0)
                {
                    activity.Record();
                }

                return due.Count;
            },
            ct,
            idempotent: true);

    /// <summary>
    /// Each row as the cache must know it, read on the writer: live (its version and values), soft-deleted (its
    /// version, no values) or gone for good (<see cref="CustomerEntry.Gone"/>), in one query per
    /// <see cref="EntriesPerRead"/> ids: the cache's delayed repairs read every id due at a tick at once.
    /// </summary>
    public Task<IReadOnlyDictionary<int, CustomerEntry>> GetEntriesFromWriterAsync(IReadOnlyList<int> ids, CancellationToken ct) =>
        db.ReadAsync<IReadOnlyDictionary<int, CustomerEntry>>(
            async (connection, token) =>
            {
                var entries = new Dictionary<int, CustomerEntry>(ids.Count);
                foreach (var chunk in ids.Distinct().Chunk(EntriesPerRead))
                {
                    // Ids are ints, written as literals: nothing from outside reaches the SQL text.
                    var list = string.Join(',', chunk.Select(id => id.ToString(CultureInfo.InvariantCulture)));
                    await using var command = connection.CreateCommand($"SELECT {Columns} FROM customers WHERE id IN ({list})");
                    await using var reader = await command.ExecuteReaderAsync(token);
                    while (await reader.ReadAsync(token))
                    {
                        var row = ReadCustomer(reader);
                        entries[row.Id] = row.DeletedAt is null ? new CustomerEntry(row.Version, row) : new CustomerEntry(row.Version, null);
                    }
                }

                foreach (var id in ids)
                {
                    // No row: erased or purged, for good.
                    entries.TryAdd(id, new CustomerEntry(CustomerEntry.Gone, null));
                }

                return entries;
            },
            preferReplica: false,
            ct);

    /// <summary>Most ids in one query of <see cref="GetEntriesFromWriterAsync"/>.</summary>
    internal const int EntriesPerRead = 500;

    /// <summary>Runs <paramref name="change"/> on the locked row in a transaction, committed only when the change is done.</summary>
    private async Task<WriteOutcome> ChangeAsync(
        DbConnection connection, int id, Func<DbTransaction, Customer, Task<WriteOutcome>> change, CancellationToken ct)
    {
        await using var transaction = await connection.BeginAsync(ct);
        if (await ReadForUpdateAsync(connection, transaction, id, ct) is not { } before)
        {
            return new WriteOutcome(WriteStatus.NotFound);
        }

        var outcome = await change(transaction, before);
        if (outcome.Status == WriteStatus.Done)
        {
            await transaction.CommitAsync(ct);
        }

        return outcome;
    }

    /// <summary><see cref="ChangeAsync"/> on a live row still at <paramref name="expectedVersion"/> (when given): else not found, or a version mismatch.</summary>
    private Task<WriteOutcome> ChangeLiveAsync(
        DbConnection connection, int id, int? expectedVersion, Func<DbTransaction, Customer, Task<WriteOutcome>> change, CancellationToken ct) =>
        ChangeAsync(
            connection,
            id,
            (transaction, before) => before.DeletedAt is not null ? Task.FromResult(new WriteOutcome(WriteStatus.NotFound))
                : expectedVersion is { } expected && before.Version != expected ? Task.FromResult(new WriteOutcome(WriteStatus.VersionMismatch))
                : change(transaction, before),
            ct);

    private Task<Customer?> ReadForUpdateAsync(DbConnection connection, DbTransaction transaction, int id, CancellationToken ct) =>
        ReadAnyAsync(connection, transaction, _selectForUpdate, id, ct);

    private static async Task<Customer?> ReadAnyAsync(DbConnection connection, DbTransaction? transaction, string sql, int id, CancellationToken ct)
    {
        await using var command = connection.CreateCommand(sql, transaction).With("@id", id);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? ReadCustomer(reader) : null;
    }

    /// <summary>Writes a delete or a restore (<paramref name="row"/> as it is after it) and its event in one round trip; a restore may find its email taken.</summary>
    private async Task<WriteOutcome> SetDeletedAtAsync(DbConnection connection, DbTransaction transaction, Customer row, string kind, ChangeContext who, CancellationToken ct)
    {
        await using var command = CustomerEvents.AddTo(
            connection.CreateCommand(SetDeletedAt, transaction)
                .With("@id", row.Id).With("@deleted_at", row.DeletedAt).With("@now", row.UpdatedAt).With("@version", row.Version),
            "@id", kind, row.Version, row.UpdatedAt, who, null, null);
        try
        {
            await command.ExecuteNonQueryAsync(ct);
            return new WriteOutcome(WriteStatus.Done, row);
        }
        catch (DbException e) when (_dialect.IsUniqueViolation(e))
        {
            return new WriteOutcome(WriteStatus.DuplicateEmail);
        }
    }

    private static async Task<int?> LastEventVersionAsync(DbConnection connection, DbTransaction transaction, int id, CancellationToken ct)
    {
        await using var command = connection.CreateCommand("SELECT MAX(version) FROM customer_events WHERE customer_id = @id", transaction).With("@id", id);
        var value = await command.ExecuteScalarAsync(ct);
        return value is null or DBNull ? null : Convert.ToInt32(value, CultureInfo.InvariantCulture);
    }

    private static async Task<string?> LastEventKindAsync(DbConnection connection, DbTransaction transaction, int id, CancellationToken ct)
    {
        await using var command = connection.CreateCommand(
            "SELECT kind FROM customer_events WHERE customer_id = @id ORDER BY seq DESC LIMIT 1", transaction).With("@id", id);
        return await command.ExecuteScalarAsync(ct) as string;
    }

    /// <summary>The current version of a row read on the writer, or null when there is none.</summary>
    public Task<int?> GetVersionAsync(int id, CancellationToken ct) =>
        db.ReadAsync((connection, token) => ReadVersionAsync(connection, null, id, token), preferReplica: false, ct);

    private void Remember(WriteOutcome outcome)
    {
        if (outcome.Customer is { } customer)
        {
            _recent.Add(customer.Id);
            activity.Record();
        }
    }

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
            ? new StoredAnswer(Created, JsonSerializer.Serialize(answer.Customer!, CustomerJsonContext.Default.Customer), answer.Customer!.Id)
            : new StoredAnswer(DuplicateEmail, null);

        public WriteOutcome Decode(StoredAnswer stored) => stored.Outcome == Created
            ? new WriteOutcome(WriteStatus.Done, JsonSerializer.Deserialize(stored.Body!, CustomerJsonContext.Default.Customer))
            : new WriteOutcome(WriteStatus.DuplicateEmail);
    }
}
