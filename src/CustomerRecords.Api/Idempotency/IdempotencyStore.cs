using System.Data.Common;
using CustomerRecords.Api.Data;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Api.Idempotency;

/// <summary>How a request under an <c>Idempotency-Key</c> ended.</summary>
internal enum OnceState
{
    /// <summary>This request did the work and recorded its answer.</summary>
    Applied,

    /// <summary>An earlier request with the key and the same body finished: its answer, not a second application.</summary>
    Replayed,

    /// <summary>Another request with the key is still running.</summary>
    InFlight,

    /// <summary>The key was used with a different body.</summary>
    KeyReused,
}

/// <summary>The outcome of <see cref="IdempotencyStore.RunOnceAsync{T}"/>; <c>Value</c> is set when Applied or Replayed.</summary>
internal readonly record struct OnceResult<T>(OnceState State, T Value = default!);

/// <summary>An answer as stored with its key: the feature's own outcome name and, if any, a body.</summary>
/// <param name="Outcome">The feature's own name for the answer (<c>created</c>, <c>duplicate-email</c>, <c>erased</c>).</param>
/// <param name="Body">The answer's body, if any.</param>
/// <param name="CustomerId">The customer the answer names, so that erasing that customer can scrub it.</param>
internal readonly record struct StoredAnswer(string Outcome, string? Body, int? CustomerId = null);

/// <summary>How a feature stores its answer with the key, and reads it back for a replay.</summary>
internal interface IAnswerCodec<T>
{
    StoredAnswer Encode(T answer);

    T Decode(StoredAnswer stored);
}

/// <summary>
/// At most once per <c>Idempotency-Key</c>: step 1 claims the key in its own short commit (so a
/// concurrent request with the key sees "in flight"); step 2 does the feature's work and records its
/// answer in one transaction, so "answered" and "applied" can never disagree. Both steps are safe to
/// repeat, so both are retried even when a connection breaks after sending.
/// </summary>
internal sealed class IdempotencyStore(ResilientDb db, TimeProvider clock, IOptions<DatabaseOptions> options)
{
    private readonly SqlDialect _dialect = db.Dialect;

    /// <summary>
    /// How long a claimed key stays "in flight" before a retry may take it over (the claimant died).
    /// Only liveness hangs on it: a slow claimant that loses its key finds the owner changed at its
    /// locked first step and answers "in flight", so a takeover can never apply the work twice. One
    /// operation deadline plus a margin covers any claimant that is still working.
    /// </summary>
    private TimeSpan Lease => options.Value.OperationTimeout + TimeSpan.FromSeconds(2);

    /// <summary>
    /// Runs <paramref name="work"/> at most once for <paramref name="request"/>, inside the transaction that
    /// records its answer; a repeat with the same body gets the recorded answer back.
    /// </summary>
    public async Task<OnceResult<T>> RunOnceAsync<T>(
        IdempotentRequest request,
        Func<DbConnection, DbTransaction, CancellationToken, Task<T>> work,
        IAnswerCodec<T> codec,
        CancellationToken ct)
    {
        var owner = Guid.NewGuid().ToString("N");
        var claim = await db.WriteAsync((connection, token) => ClaimKeyAsync(connection, request, owner, codec, token), ct, idempotent: true);
        if (claim is not null)
        {
            return claim.Value;
        }

        return await db.WriteAsync((connection, token) => CompleteAsync(connection, request.Key, owner, work, codec, token), ct, idempotent: true);
    }

    /// <summary>Removes answers older than <paramref name="lifetime"/>; returns how many.</summary>
    public Task<int> PurgeAsync(TimeSpan lifetime, CancellationToken ct) =>
        db.WriteAsync(
            async (connection, token) =>
            {
                await using var command = connection.CreateCommand("DELETE FROM idempotency_keys WHERE created_at < @cutoff")
                    .With("@cutoff", Now() - lifetime);
                return await command.ExecuteNonQueryAsync(token);
            },
            ct,
            idempotent: true);

    /// <summary>
    /// Inside an erasure's transaction: the keys that answered with <paramref name="customerId"/> lose their stored
    /// body and their request hash (a hash of the personal data sent). The key itself stays, answered
    /// <see cref="ErasedOutcome"/>, so a late retry of that create is refused as a reused key instead of creating
    /// the erased customer again.
    /// </summary>
    public static async Task<int> ScrubAsync(DbConnection connection, DbTransaction transaction, int customerId, CancellationToken ct)
    {
        await using var command = connection.CreateCommand("""
            UPDATE idempotency_keys SET request_hash = @erased, response_body = NULL, outcome = @erased
            WHERE customer_id = @customer_id
            """, transaction)
            .With("@erased", ErasedOutcome)
            .With("@customer_id", customerId);
        return await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The outcome (and request hash) of a key whose customer was erased: no request hashes to it.</summary>
    public const string ErasedOutcome = "erased";

    /// <summary>Null when this request now owns the key; otherwise the answer to give instead.</summary>
    private async Task<OnceResult<T>?> ClaimKeyAsync<T>(DbConnection connection, IdempotentRequest request, string owner, IAnswerCodec<T> codec, CancellationToken ct)
    {
        var key = request.Key;
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
                    .With("@key", key).With("@hash", request.RequestHash).With("@owner", owner).With("@now", now).With("@until", now + Lease);
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

            if (!string.Equals(row.RequestHash, request.RequestHash, StringComparison.Ordinal))
            {
                return new OnceResult<T>(OnceState.KeyReused);
            }

            if (row.Answer is { } answer)
            {
                return new OnceResult<T>(OnceState.Replayed, codec.Decode(answer));
            }

            if (string.Equals(row.Owner, owner, StringComparison.Ordinal))
            {
                return null; // our own claim, from an attempt whose reply was lost
            }

            if (row.LockedUntil > now || row.AnsweredByOlderVersion)
            {
                return new OnceResult<T>(OnceState.InFlight);
            }

            // The previous claimant's lease ran out without an answer: it never committed. Take over.
            await using var takeOver = connection.CreateCommand($"""
                UPDATE idempotency_keys SET owner = @owner, locked_until = @until
                WHERE idempotency_key = @key AND owner = @previous AND {Unanswered}
                """)
                .With("@owner", owner).With("@until", now + Lease).With("@key", key).With("@previous", row.Owner);
            return await takeOver.ExecuteNonQueryAsync(ct) == 1 ? null : new OnceResult<T>(OnceState.InFlight);
        }

        return new OnceResult<T>(OnceState.InFlight);
    }

    private async Task<OnceResult<T>> CompleteAsync<T>(
        DbConnection connection,
        string key,
        string owner,
        Func<DbConnection, DbTransaction, CancellationToken, Task<T>> work,
        IAnswerCodec<T> codec,
        CancellationToken ct)
    {
        await using var transaction = await connection.BeginAsync(ct);

        // Locks the key row first: a repeat of this step waits for an earlier attempt's commit or
        // rollback, then sees its answer instead of doing the work a second time.
        await using (var hold = connection.CreateCommand($"""
            UPDATE idempotency_keys SET locked_until = @until
            WHERE idempotency_key = @key AND owner = @owner AND {Unanswered}
            """, transaction)
            .With("@until", Now() + Lease).With("@key", key).With("@owner", owner))
        {
            if (await hold.ExecuteNonQueryAsync(ct) == 0)
            {
                var row = await ReadKeyAsync(connection, transaction, key, ct);
                return row?.Answer is { } answer
                    ? new OnceResult<T>(OnceState.Replayed, codec.Decode(answer))
                    : new OnceResult<T>(OnceState.InFlight);
            }
        }

        var result = await work(connection, transaction, ct);
        var stored = codec.Encode(result);
        await using (var record = connection.CreateCommand("""
            UPDATE idempotency_keys SET outcome = @outcome, response_body = @body, customer_id = @customer_id WHERE idempotency_key = @key
            """, transaction)
            .With("@outcome", stored.Outcome)
            .With("@body", stored.Body)
            .With("@customer_id", stored.CustomerId)
            .With("@key", key))
        {
            await record.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
        return new OnceResult<T>(OnceState.Applied, result);
    }

    /// <summary>
    /// Not answered by this version (<c>outcome</c>) nor by an instance older than migration 3, which wrote
    /// <c>status_code</c> instead: such a row is never taken over, so a rolling upgrade cannot apply a request twice.
    /// </summary>
    private const string Unanswered = "outcome IS NULL AND status_code IS NULL";

    private readonly record struct KeyRow(string RequestHash, string Owner, DateTime CreatedAt, DateTime LockedUntil, StoredAnswer? Answer, bool AnsweredByOlderVersion);

    private static async Task<KeyRow?> ReadKeyAsync(DbConnection connection, DbTransaction? transaction, string key, CancellationToken ct)
    {
        await using var command = connection.CreateCommand("""
            SELECT request_hash, owner, created_at, locked_until, outcome, response_body, status_code
            FROM idempotency_keys WHERE idempotency_key = @key
            """, transaction).With("@key", key);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }

        StoredAnswer? answer = reader.IsDBNull(4)
            ? null
            : new StoredAnswer(reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5));
        return new KeyRow(
            reader.GetString(0),
            reader.GetString(1),
            DateTime.SpecifyKind(reader.GetDateTime(2), DateTimeKind.Utc),
            DateTime.SpecifyKind(reader.GetDateTime(3), DateTimeKind.Utc),
            answer,
            AnsweredByOlderVersion: answer is null && !reader.IsDBNull(6));
    }

    private DateTime Now() => StoredClock.Now(clock);
}
