using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using CustomerRecords.Api.Data;

namespace CustomerRecords.Api.Customers;

/// <summary>How an <c>Idempotency-Key</c> create ended.</summary>
internal enum CreateOnceState
{
    /// <summary>This request created the customer (or met a duplicate email) and recorded the answer.</summary>
    Applied,

    /// <summary>An earlier request with the key and the same body finished: its answer, not a second row.</summary>
    Replayed,

    /// <summary>Another request with the key is still running.</summary>
    InFlight,

    /// <summary>The key was used with a different body.</summary>
    KeyReused,
}

internal readonly record struct CreateOnceOutcome(CreateOnceState State, WriteOutcome Outcome = default);

internal sealed partial class CustomerStore
{
    /// <summary>
    /// How long a claimed key stays "in flight" before a retry may take it over (the claimant died).
    /// Only liveness hangs on it: a slow claimant that loses its key finds the owner changed at its
    /// locked first step and answers 409, so a takeover can never make a second row. One operation
    /// deadline plus a margin covers any claimant that is still working.
    /// </summary>
    private TimeSpan Lease => options.Value.OperationTimeout + TimeSpan.FromSeconds(2);

    /// <summary>
    /// Creates a customer at most once per key. Step 1 claims the key in its own short commit (so a
    /// concurrent request with the key sees "in flight"); step 2 inserts the customer and records the
    /// answer in one transaction, so "answered" and "customer exists" can never disagree. Both steps
    /// are safe to repeat, so both are retried even when a connection breaks after sending.
    /// </summary>
    public async Task<CreateOnceOutcome> CreateOnceAsync(string key, string requestHash, CustomerChange change, CancellationToken ct)
    {
        var owner = Guid.NewGuid().ToString("N");
        var claim = await db.WriteAsync((connection, token) => ClaimKeyAsync(connection, key, requestHash, owner, token), ct, idempotent: true);
        if (claim is not null)
        {
            return claim.Value;
        }

        var now = Now();
        var result = await db.WriteAsync((connection, token) => CompleteOnceAsync(connection, key, owner, change, now, token), ct, idempotent: true);
        if (result.State == CreateOnceState.Applied)
        {
            Remember(result.Outcome);
        }

        return result;
    }

    /// <summary>Removes answers older than <paramref name="lifetime"/>; returns how many.</summary>
    public Task<int> PurgeIdempotencyKeysAsync(TimeSpan lifetime, CancellationToken ct) =>
        db.WriteAsync(
            async (connection, token) =>
            {
                await using var command = connection.CreateCommand("DELETE FROM idempotency_keys WHERE created_at < @cutoff")
                    .With("@cutoff", Now() - lifetime);
                return await command.ExecuteNonQueryAsync(token);
            },
            ct,
            idempotent: true);

    /// <summary>Null when this request now owns the key; otherwise the answer to give instead.</summary>
    private async Task<CreateOnceOutcome?> ClaimKeyAsync(DbConnection connection, string key, string requestHash, string owner, CancellationToken ct)
    {
        var lifetime = options.Value.IdempotencyKeyLifetime;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var now = Now();
            try
            {
                await using var insert = connection.CreateCommand("""
                    INSERT INTO idempotency_keys (idempotency_key, request_hash, owner, created_at, locked_until)
                    VALUES (@key, @hash, @owner, @now, @until)
                    """)
                    .With("@key", key).With("@hash", requestHash).With("@owner", owner).With("@now", now).With("@until", now + Lease);
                await insert.ExecuteNonQueryAsync(ct);
                return null;
            }
            catch (DbException e) when (_dialect.IsUniqueViolation(e))
            {
                // The key exists: decide from what it records.
            }

            var existing = await ReadKeyAsync(connection, null, key, ct);
            if (existing is null)
            {
                continue; // purged between our insert and our read: insert again
            }

            var row = existing.Value;
            if (row.CreatedAt < now - lifetime)
            {
                await using var expire = connection.CreateCommand("DELETE FROM idempotency_keys WHERE idempotency_key = @key AND created_at = @created")
                    .With("@key", key).With("@created", row.CreatedAt);
                await expire.ExecuteNonQueryAsync(ct);
                continue;
            }

            if (!string.Equals(row.RequestHash, requestHash, StringComparison.Ordinal))
            {
                return new CreateOnceOutcome(CreateOnceState.KeyReused);
            }

            if (row.Answer is { } answer)
            {
                return new CreateOnceOutcome(CreateOnceState.Replayed, answer);
            }

            if (string.Equals(row.Owner, owner, StringComparison.Ordinal))
            {
                return null; // our own claim, from an attempt whose reply was lost
            }

            if (row.LockedUntil > now)
            {
                return new CreateOnceOutcome(CreateOnceState.InFlight);
            }

            // The previous claimant's lease ran out without an answer: it never committed. Take over.
            await using var takeOver = connection.CreateCommand("""
                UPDATE idempotency_keys SET owner = @owner, locked_until = @until
                WHERE idempotency_key = @key AND owner = @previous AND status_code IS NULL
                """)
                .With("@owner", owner).With("@until", now + Lease).With("@key", key).With("@previous", row.Owner);
            return await takeOver.ExecuteNonQueryAsync(ct) == 1 ? null : new CreateOnceOutcome(CreateOnceState.InFlight);
        }

        return new CreateOnceOutcome(CreateOnceState.InFlight);
    }

    private async Task<CreateOnceOutcome> CompleteOnceAsync(DbConnection connection, string key, string owner, CustomerChange change, DateTime now, CancellationToken ct)
    {
        await using var transaction = await connection.BeginTransactionAsync(ct);

        // Locks the key row first: a repeat of this step waits for an earlier attempt's commit or
        // rollback, then sees its answer instead of inserting a second customer.
        await using (var hold = connection.CreateCommand("""
            UPDATE idempotency_keys SET locked_until = @until
            WHERE idempotency_key = @key AND owner = @owner AND status_code IS NULL
            """, transaction)
            .With("@until", now + Lease).With("@key", key).With("@owner", owner))
        {
            if (await hold.ExecuteNonQueryAsync(ct) == 0)
            {
                var row = await ReadKeyAsync(connection, transaction, key, ct);
                return row?.Answer is { } answer
                    ? new CreateOnceOutcome(CreateOnceState.Replayed, answer)
                    : new CreateOnceOutcome(CreateOnceState.InFlight);
            }
        }

        var outcome = await InsertAsync(connection, transaction, change, now, ct);
        await using (var record = connection.CreateCommand("""
            UPDATE idempotency_keys SET status_code = @status, response_body = @body WHERE idempotency_key = @key
            """, transaction)
            .With("@status", outcome.Status == WriteStatus.Done ? StatusCodes.Status201Created : StatusCodes.Status409Conflict)
            .With("@body", outcome.Customer is null ? null : JsonSerializer.Serialize(outcome.Customer, CustomerJsonContext.Default.Customer))
            .With("@key", key))
        {
            await record.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
        return new CreateOnceOutcome(CreateOnceState.Applied, outcome);
    }

    private readonly record struct KeyRow(string RequestHash, string Owner, DateTime CreatedAt, DateTime LockedUntil, WriteOutcome? Answer);

    private static async Task<KeyRow?> ReadKeyAsync(DbConnection connection, DbTransaction? transaction, string key, CancellationToken ct)
    {
        await using var command = connection.CreateCommand("""
            SELECT request_hash, owner, created_at, locked_until, status_code, response_body
            FROM idempotency_keys WHERE idempotency_key = @key
            """, transaction).With("@key", key);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }

        WriteOutcome? answer = null;
        if (!reader.IsDBNull(4))
        {
            var status = Convert.ToInt32(reader.GetValue(4), CultureInfo.InvariantCulture);
            answer = status == StatusCodes.Status201Created
                ? new WriteOutcome(WriteStatus.Done, JsonSerializer.Deserialize(reader.GetString(5), CustomerJsonContext.Default.Customer))
                : new WriteOutcome(WriteStatus.DuplicateEmail);
        }

        return new KeyRow(
            reader.GetString(0),
            reader.GetString(1),
            DateTime.SpecifyKind(reader.GetDateTime(2), DateTimeKind.Utc),
            DateTime.SpecifyKind(reader.GetDateTime(3), DateTimeKind.Utc),
            answer);
    }
}
