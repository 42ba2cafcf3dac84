using System.Data.Common;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace CustomerRecords.Api.Data;

/// <summary>
/// Runs database operations with a fresh pooled connection per attempt, retrying with backoff and
/// jitter inside one total deadline, but only where a retry cannot apply a write twice
/// (<see cref="DbFailures.MayRetry"/>). Reads prefer the replica and fall back to the writer while the
/// replica fails. A read-only error (a demoted writer) replaces the writer pool first, so the retry opens a
/// connection to whichever server is the writer now.
/// </summary>
internal sealed partial class ResilientDb
{
    private static readonly ResiliencePropertyKey<bool> Idempotent = new("customer-records.idempotent");

    private readonly AppDatabase _database;
    private readonly ResiliencePipeline _pipeline;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _replicaPause;
    private readonly TimeSpan _operationTimeout;
    private readonly ILogger<ResilientDb> _logger;
    private long _replicaDownUntil;

    public ResilientDb(AppDatabase database, IOptions<DatabaseOptions> options, TimeProvider clock, ILogger<ResilientDb> logger)
    {
        _database = database;
        _clock = clock;
        _logger = logger;
        var settings = options.Value;
        _replicaPause = settings.ReplicaRetryAfter;
        _operationTimeout = settings.OperationTimeout;
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = clock }
            .AddTimeout(settings.OperationTimeout)
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(settings.MaxRetries, 1),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(100),
                MaxDelay = TimeSpan.FromSeconds(2),
                ShouldHandle = args => ValueTask.FromResult(
                    settings.MaxRetries > 0
                    && args.Outcome.Exception is { } e
                    && !args.Context.CancellationToken.IsCancellationRequested
                    && DbFailures.MayRetry(DbFailures.Classify(e), args.Context.Properties.GetValue(Idempotent, false))),
                OnRetry = args =>
                {
                    LogRetry(logger, args.AttemptNumber + 1, DbFailures.Classify(args.Outcome.Exception!).ToString(), args.RetryDelay.TotalMilliseconds);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    public SqlDialect Dialect => _database.Dialect;

    /// <summary>A read: safe to repeat, so retried on any passing fault. <paramref name="preferReplica"/> sends it to the read-only endpoint when there is one.</summary>
    public Task<T> ReadAsync<T>(Func<DbConnection, CancellationToken, Task<T>> operation, bool preferReplica, CancellationToken ct) =>
        RunAsync(operation, idempotent: true, preferReplica, ct);

    /// <summary>A write: retried only when the failure proves nothing was applied (unless <paramref name="idempotent"/>).</summary>
    public Task<T> WriteAsync<T>(Func<DbConnection, CancellationToken, Task<T>> operation, CancellationToken ct, bool idempotent = false) =>
        RunAsync(operation, idempotent, preferReplica: false, ct);

    /// <summary>
    /// Runs the pipeline and answers by the deadline whether or not the attempt has returned. Polly's
    /// timeout only cancels the attempt's token, and cancelling MySqlConnector is itself a round trip
    /// (KILL QUERY on a second connection, bounded by Cancellation Timeout; an open is stuck in the
    /// handshake until Connection Timeout), so against a hung server the attempt can return seconds
    /// late. Past the deadline the caller gets the same <see cref="TimeoutRejectedException"/> Polly
    /// raises (503 + Retry-After), and the attempt is abandoned, which is safe: nothing it does from
    /// then on is ever acknowledged to anyone (an abandoned write was not acknowledged, so it is no
    /// more "maybe applied" than a write whose reply was lost, which is what Idempotency-Key
    /// exists for; an abandoned step of an idempotent request may land after its key's lease, and the
    /// key's owner check, not the lease, keeps a takeover from applying it twice); its token is already
    /// cancelled, so it starts nothing new and no retry follows; and its connection is disposed by
    /// <see cref="AttemptAsync{T}"/>'s <c>await using</c> when it finally returns, at which point the
    /// context goes back to the pool too.
    /// </summary>
    private async Task<T> RunAsync<T>(Func<DbConnection, CancellationToken, Task<T>> operation, bool idempotent, bool preferReplica, CancellationToken ct)
    {
        var context = ResilienceContextPool.Shared.Get(ct);
        context.Properties.Set(Idempotent, idempotent);
        var run = _pipeline.ExecuteAsync(
            static async (context, state) => await state.Self.AttemptAsync(state.Operation, state.PreferReplica, context.CancellationToken),
            context,
            (Self: this, Operation: operation, PreferReplica: preferReplica)).AsTask();
        try
        {
            return await run.WaitAsync(_operationTimeout, _clock, ct);
        }
        catch (TimeoutException e) when (!ReferenceEquals(e, run.Exception?.InnerException))
        {
            // WaitAsync's own timeout, not a TimeoutException the attempt raised.
            LogAbandoned(_logger, _operationTimeout.TotalMilliseconds);
            throw new TimeoutRejectedException(
                $"The database operation did not complete within the allowed timeout of '{_operationTimeout}'.", _operationTimeout, e);
        }
        finally
        {
            if (run.IsCompleted)
            {
                ResilienceContextPool.Shared.Return(context);
            }
            else
            {
                // Abandoned (deadline or caller gone): the pipeline still uses the context until it returns.
                _ = run.ContinueWith(
                    static (finished, state) =>
                    {
                        _ = finished.Exception; // observed: nobody awaits an abandoned attempt
                        ResilienceContextPool.Shared.Return((ResilienceContext)state!);
                    },
                    context,
                    CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default);
            }
        }
    }

    private async Task<T> AttemptAsync<T>(Func<DbConnection, CancellationToken, Task<T>> operation, bool preferReplica, CancellationToken ct)
    {
        var source = preferReplica && ReplicaUsable() ? _database.Reader : _database.Writer;
        var onReplica = !ReferenceEquals(source, _database.Writer);
        DbConnection connection;
        try
        {
            connection = await source.OpenConnectionAsync(ct);
        }
        catch (Exception e) when (e is DbException or IOException or TimeoutException or SocketException)
        {
            var failure = AsIOException(e);
            failure.Data[DbFailures.NotSentMarker] = true;
            if (onReplica)
            {
                MarkReplicaDown();
            }

            if (ReferenceEquals(failure, e))
            {
                throw;
            }

            throw failure;
        }

        await using (connection)
        {
            try
            {
                return await operation(connection, ct);
            }
            catch (Exception e) when (DbFailures.Classify(e) is var failure && failure != DbFailure.Permanent)
            {
                if (failure == DbFailure.ReadOnly && !onReplica)
                {
                    // The pool's other connections lead to the demoted server too: start a new pool.
                    if (_database.ReplaceWriter(source))
                    {
                        LogReadOnly(_logger);
                    }
                }
                else if (onReplica && failure == DbFailure.OutcomeUnknown)
                {
                    MarkReplicaDown();
                }

                if (e is SocketException)
                {
                    throw AsIOException(e);
                }

                throw;
            }
        }
    }

    /// <summary>
    /// MySqlConnector lets a raw <see cref="SocketException"/> through now and then (a connection reset
    /// by a crashed server); it means what an <see cref="IOException"/> means, and must reach the error
    /// handler as a database failure (503), not as an unknown exception (500).
    /// </summary>
    private static Exception AsIOException(Exception e) =>
        e is SocketException ? new IOException("The connection to the database failed.", e) : e;

    private bool ReplicaUsable() =>
        !ReferenceEquals(_database.Reader, _database.Writer) && _clock.GetTimestamp() >= Interlocked.Read(ref _replicaDownUntil);

    private void MarkReplicaDown()
    {
        LogReplicaDown(_logger, _replicaPause.TotalSeconds);
        Interlocked.Exchange(ref _replicaDownUntil, _clock.GetTimestamp() + (long)(_replicaPause.TotalSeconds * _clock.TimestampFrequency));
    }

    [LoggerMessage(EventId = 1100, Level = LogLevel.Warning, Message = "Database operation failed ({Failure}); retry {Attempt} in {DelayMs} ms")]
    private static partial void LogRetry(ILogger logger, int attempt, string failure, double delayMs);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "The writer answered read-only (failover in progress?); replaced the connection pool")]
    private static partial void LogReadOnly(ILogger logger);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "The read replica failed; reading from the writer for {Seconds} s")]
    private static partial void LogReplicaDown(ILogger logger, double seconds);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Debug, Message = "Database operation abandoned at its {DeadlineMs} ms deadline; the attempt had not returned")]
    private static partial void LogAbandoned(ILogger logger, double deadlineMs);
}
