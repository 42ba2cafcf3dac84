using CustomerRecords.Api.Data;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MySqlConnector;
using Polly.Timeout;

namespace CustomerRecords.Tests.Data;

/// <summary>
/// The wait for a database that does not answer (Database:ResumeTimeout) backs off between connection attempts.
/// When a backoff oversleeps the end of the window — a loaded machine — the request still gets the 503 of a
/// window that ran out, never an ArgumentOutOfRangeException (a 500) from a negative bound on the next attempt.
/// </summary>
public sealed class ResumeWindowOversleptTests
{
    [Fact]
    public async Task ABackoffThatOversleepsTheWindowEndsItAsATimeout()
    {
        var clock = new OversleepingClock(TimeSpan.FromSeconds(30));
        await using var source = new MySqlDataSource($"Server=127.0.0.1;Port={FreePort.Get()};Database=none;User ID=none;Connection Timeout=1");
        var options = Options.Create(new DatabaseOptions { ResumeTimeout = TimeSpan.FromSeconds(25), MaxRetries = 0 });
        var db = new ResilientDb(new AppDatabase(source, source, SqlDialect.MySql), options, clock, new DatabaseState(clock), NullLogger<ResilientDb>.Instance);

        var read = db.ReadAsync((_, _) => Task.FromResult(1), preferReplica: false, CancellationToken.None);

        await Assert.ThrowsAsync<TimeoutRejectedException>(() => read.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.True(clock.Overslept > 0, "no backoff ran: the connection attempt did not fail as refused");
    }

    /// <summary>
    /// System time, except that each short timer (a backoff: under a second) moves the clock on by
    /// <paramref name="step"/> and fires at once, as if the process had not been scheduled for that long.
    /// </summary>
    private sealed class OversleepingClock(TimeSpan step) : TimeProvider
    {
        private long _offsetTicks;
        private int _overslept;

        public int Overslept => Volatile.Read(ref _overslept);

        public override long GetTimestamp() =>
            base.GetTimestamp() + (long)(Interlocked.Read(ref _offsetTicks) * (TimestampFrequency / (double)TimeSpan.TicksPerSecond));

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            if (dueTime > TimeSpan.Zero && dueTime < TimeSpan.FromSeconds(1))
            {
                Interlocked.Add(ref _offsetTicks, step.Ticks);
                Interlocked.Increment(ref _overslept);
                dueTime = TimeSpan.Zero;
            }

            return base.CreateTimer(callback, state, dueTime, period);
        }
    }
}
