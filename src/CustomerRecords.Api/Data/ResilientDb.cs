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
    private readonly TimeSpan _resumeTimeout;
    private readonly bool _writesAllowed;
    private readonly DatabaseState _state;
    private readonly ILogger<ResilientDb> _logger;
    private long _replicaDownUntil;
    private int _waitingForResume;

    // SQLite has one writer at a time. Without a queue of its own, concurrent writers meet SQLITE_BUSY at BEGIN
    // IMMEDIATE, which Microsoft.Data.Sqlite answers by blocking its thread and retrying every 150 ms: a pool thread
    // lost per waiting writer and latency in 150 ms steps. Writes of this process wait here instead, asynchronously,
    // in arrival order; another process (the command line) still meets the busy wait. Null on MySQL, whose row locks
    // let writes of different rows proceed together.
    private readonly SemaphoreSlim? _writeGate;

    // Set inside a gated write, so that a write started from within it (none today) runs without waiting for itself.
    private static readonly AsyncLocal<bool> InsideGatedWrite = new();

    public ResilientDb(AppDatabase database, IOptions<DatabaseOptions> options, TimeProvider clock, DatabaseState state, ILogger<ResilientDb> logger)
    {
        _database = database;
        _clock = clock;
        _state = state;
        _logger = logger;
        var settings = options.Value;
        _replicaPause = settings.ReplicaRetryAfter;
        _operationTimeout = settings.OperationTimeout;
        _resumeTimeout = settings.ResumeTimeout;
        _writesAllowed = settings.WritesAllowed;
        _writeGate = ReferenceEquals(database.Dialect, SqlDialect.Sqlite) ? new SemaphoreSlim(1, 1) : null;
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

    /// <summary>
    /// A write: retried only when the failure proves nothing was applied (unless <paramref name="idempotent"/>).
    /// In a read-only region (<c>Database:ReadOnly</c> without write forwarding) it throws
    /// <see cref="ReadOnlyRegionException"/> before anything reaches the database.
    /// </summary>
    public Task<T> WriteAsync<T>(Func<DbConnection, CancellationToken, Task<T>> operation, CancellationToken ct, bool idempotent = false) =>
        !_writesAllowed ? Task.FromException<T>(new ReadOnlyRegionException())
        : _writeGate is null || InsideGatedWrite.Value ? RunAsync(operation, idempotent, preferReplica: false, ct)
        : GatedWriteAsync(_writeGate, operation, idempotent, ct);

    /// <summary>
    /// A write on SQLite: after the writes of this process queued before it. The wait counts against
    /// <c>Database:OperationTimeout</c> like any other (past it: 503 + Retry-After, nothing applied).
    /// </summary>
    private async Task<T> GatedWriteAsync<T>(SemaphoreSlim gate, Func<DbConnection, CancellationToken, Task<T>> operation, bool idempotent, CancellationToken ct)
    {
        if (!await gate.WaitAsync(_operationTimeout, ct))
        {
            throw OperationTimedOut(inner: null);
        }

        try
        {
            InsideGatedWrite.Value = true;
            return await RunAsync(operation, idempotent, preferReplica: false, ct);
        }
        finally
        {
            gate.Release();
        }
    }

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
        // First a connection, waiting up to Database:ResumeTimeout for a database that does not answer connection
        // attempts (resuming from a pause); the operation's own deadline starts once one is open.
        // Without a resume window (0) the attempts open their own connections, all inside the operation's deadline, as before.
        FirstConnection? first = null;
        try
        {
            if (_resumeTimeout > TimeSpan.Zero)
            {
                first = await OpenWaitingForResumeAsync(preferReplica, ct);
            }
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            _state.Unavailable();
            throw;
        }

        var context = ResilienceContextPool.Shared.Get(ct);
        context.Properties.Set(Idempotent, idempotent);
        var run = _pipeline.ExecuteAsync(
            static async (context, state) => await state.Self.AttemptAsync(state.Operation, state.PreferReplica, state.First, context.CancellationToken),
            context,
            (Self: this, Operation: operation, PreferReplica: preferReplica, First: first)).AsTask();
        try
        {
            var result = await run.WaitAsync(_operationTimeout, _clock, ct);
            _state.Answered();
            return result;
        }
        catch (TimeoutException e) when (!ReferenceEquals(e, run.Exception?.InnerException))
        {
            // WaitAsync's own timeout, not a TimeoutException the attempt raised.
            LogAbandoned(_logger, _operationTimeout.TotalMilliseconds);
            _state.Unavailable();
            throw OperationTimedOut(e);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            // The database's own refusals (a duplicate email, a rolled-back deadlock) mean it answered.
            if (e is TimeoutRejectedException || DbFailures.Classify(e) is DbFailure.NotSent or DbFailure.OutcomeUnknown or DbFailure.ReadOnly)
            {
                _state.Unavailable();
            }
            else
            {
                _state.Answered();
            }

            throw;
        }
        finally
        {
            first?.DisposeIfUnused();
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

    /// <summary>
    /// Opens the first attempt's connection. While the database does not answer connection attempts at all (see
    /// <see cref="NotAnswering"/>) it keeps trying, with backoff, for up to <c>Database:ResumeTimeout</c> — the request
    /// waits for a resuming Aurora Serverless cluster instead of failing — and past that throws
    /// <see cref="TimeoutRejectedException"/> (503 + Retry-After). Nothing has been sent on any of these attempts, so
    /// this holds for writes as much as for reads. Any other failure (the database answered: access denied, too many
    /// connections; or the pool is exhausted) is handed to the first attempt to raise, so the pipeline treats it as before.
    /// </summary>
    private async Task<FirstConnection> OpenWaitingForResumeAsync(bool preferReplica, CancellationToken ct)
    {
        var started = _clock.GetTimestamp();
        var delay = TimeSpan.FromMilliseconds(200);
        var waited = false;
        while (true)
        {
            var source = preferReplica && ReplicaUsable() ? _database.Reader : _database.Writer;
            var onReplica = !ReferenceEquals(source, _database.Writer);
            var left = _resumeTimeout - _clock.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                // The backoff overslept the window (a loaded machine): a negative bound would make WaitAsync throw
                // ArgumentOutOfRangeException, a 500 instead of this 503.
                throw ResumeTimedOut(new TimeoutException("The resume window ended during the backoff."));
            }

            var open = source.OpenConnectionAsync(ct).AsTask();
            try
            {
                // Bounded by what is left of the window, whatever the driver's Connection Timeout.
                var connection = await open.WaitAsync(left, _clock, ct);
                if (waited && Interlocked.Exchange(ref _waitingForResume, 0) == 1)
                {
                    var waitedMs = (long)_clock.GetElapsedTime(started).TotalMilliseconds;
                    LogResumed(_logger, waitedMs);
                }

                return new FirstConnection(connection, null, source, onReplica);
            }
            catch (TimeoutException e) when (!open.IsCompleted)
            {
                // Our own bound on an attempt that outlived the resume window: abandon it, close it when it opens.
                _ = open.ContinueWith(static t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
                throw ResumeTimedOut(e);
            }
            catch (Exception e) when (e is DbException or IOException or TimeoutException or SocketException && !ct.IsCancellationRequested)
            {
                var failure = AsIOException(e);
                failure.Data[DbFailures.NotSentMarker] = true;
                if (onReplica)
                {
                    // The writer may answer: the pipeline's attempts read from it while the replica rests.
                    MarkReplicaDown();
                    return new FirstConnection(null, failure, source, onReplica);
                }

                if (!NotAnswering(e))
                {
                    return new FirstConnection(null, failure, source, onReplica);
                }

                var elapsed = _clock.GetElapsedTime(started);
                if (elapsed + delay >= _resumeTimeout)
                {
                    throw ResumeTimedOut(failure);
                }

                // Once per episode, not once per waiting request.
                waited = true;
                if (Interlocked.Exchange(ref _waitingForResume, 1) == 0)
                {
                    LogWaitingForResume(_logger, _resumeTimeout.TotalSeconds);
                }

                await Task.Delay(delay, _clock, ct);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 1000));
            }
        }
    }

    /// <summary>The same exception Polly's timeout raises (503 + Retry-After), for a deadline this class enforces itself.</summary>
    private TimeoutRejectedException OperationTimedOut(Exception? inner)
    {
        var message = $"The database operation did not complete within the allowed timeout of '{_operationTimeout}'.";
        return inner is null ? new(message, _operationTimeout) : new(message, _operationTimeout, inner);
    }

    private TimeoutRejectedException ResumeTimedOut(Exception inner)
    {
        LogResumeTimedOut(_logger, _resumeTimeout.TotalSeconds);
        return new TimeoutRejectedException(
            $"The database did not accept a connection within Database:ResumeTimeout ('{_resumeTimeout}').", _resumeTimeout, inner);
    }

    /// <summary>
    /// The database does not answer connection attempts: a connect timeout (TCP or a handshake that never comes),
    /// a refused connection, or a connection dropped during the handshake — what a paused or resuming Aurora
    /// Serverless cluster (or a rebooting instance) looks like. Not: the server answering with an error (access
    /// denied, too many connections), nor a full pool (the database answers; this instance is busy).
    /// </summary>
    internal static bool NotAnswering(Exception e) => e switch
    {
        MySqlConnector.MySqlException { ErrorCode: MySqlConnector.MySqlErrorCode.UnableToConnectToHost } m =>
            !m.Message.Contains("pooled connections are in use", StringComparison.Ordinal),
        MySqlConnector.MySqlException { InnerException: IOException or SocketException } => true,
        MySqlConnector.MySqlException => false,
        IOException or SocketException or TimeoutException => true,
        _ => false,
    };

    private async Task<T> AttemptAsync<T>(Func<DbConnection, CancellationToken, Task<T>> operation, bool preferReplica, FirstConnection? first, CancellationToken ct)
    {
        DbDataSource source;
        bool onReplica;
        DbConnection connection;
        if (first?.Take() is { } handed)
        {
            if (handed.Failure is { } failed)
            {
                throw failed;
            }

            (connection, source, onReplica) = (handed.Connection!, handed.Source, handed.OnReplica);
        }
        else
        {
            source = preferReplica && ReplicaUsable() ? _database.Reader : _database.Writer;
            onReplica = !ReferenceEquals(source, _database.Writer);
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

    /// <summary>The first attempt's connection (or why it could not open), opened before the pipeline runs; taken once.</summary>
    private sealed class FirstConnection(DbConnection? connection, Exception? failure, DbDataSource source, bool onReplica)
    {
        private Handed? _handed = new(connection, failure, source, onReplica);

        public Handed? Take() => Interlocked.Exchange(ref _handed, null);

        public void DisposeIfUnused() => Take()?.Connection?.Dispose();

        public sealed record Handed(DbConnection? Connection, Exception? Failure, DbDataSource Source, bool OnReplica);
    }

    [LoggerMessage(EventId = 1104, Level = LogLevel.Warning, Message = "The database does not accept connections (resuming from a pause?); requests wait up to {Seconds} s for it")]
    private static partial void LogWaitingForResume(ILogger logger, double seconds);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Information, Message = "The database accepted a connection after {WaitedMs} ms of waiting")]
    private static partial void LogResumed(ILogger logger, long waitedMs);

    [LoggerMessage(EventId = 1106, Level = LogLevel.Debug, Message = "The database did not accept a connection within Database:ResumeTimeout ({Seconds} s); answering 503")]
    private static partial void LogResumeTimedOut(ILogger logger, double seconds);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Debug, Message = "Database operation abandoned at its {DeadlineMs} ms deadline; the attempt had not returned")]
    private static partial void LogAbandoned(ILogger logger, double deadlineMs);
}
