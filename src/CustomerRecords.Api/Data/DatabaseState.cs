namespace CustomerRecords.Api.Data;

/// <summary>
/// The latest verdict on the database from real work — every operation <see cref="ResilientDb"/> runs for a request
/// or a background job — and from readiness probes: did the database answer, and when. Readiness reads it instead
/// of probing while it is fresh, so traffic, not the load balancer's health checks, is what touches the database.
/// </summary>
internal sealed class DatabaseState(TimeProvider clock)
{
    private Verdict? _latest;

    /// <summary>The latest verdict, or null before any.</summary>
    public Verdict? Latest => Volatile.Read(ref _latest);

    /// <summary>The database answered (a result, or an error of its own such as a constraint violation).</summary>
    public void Answered() => Volatile.Write(ref _latest, new Verdict(true, clock.GetTimestamp()));

    /// <summary>The database did not answer: no connection, a broken one, or a deadline that ran out.</summary>
    public void Unavailable() => Volatile.Write(ref _latest, new Verdict(false, clock.GetTimestamp()));

    /// <summary>How long ago <paramref name="verdict"/> was reached.</summary>
    public TimeSpan Age(Verdict verdict) => clock.GetElapsedTime(verdict.Timestamp);

    /// <param name="Ok">Whether the database answered.</param>
    /// <param name="Timestamp">When, on the <see cref="TimeProvider"/>'s timestamp clock.</param>
    public sealed record Verdict(bool Ok, long Timestamp);
}

/// <summary>
/// A write refused because this instance serves a read-only region (<c>Database:ReadOnly</c> without write
/// forwarding). Raised before anything is sent to the database; answered 503 <c>read-only-region</c>.
/// </summary>
internal sealed class ReadOnlyRegionException() : InvalidOperationException("This region's database is read-only (Database:ReadOnly); writes go to the primary region.");

/// <summary>Whether this instance may write at all: background writers ask before each round.</summary>
internal interface IWriteGate
{
    bool WritesAllowed { get; }
}

internal sealed class WriteGate(Microsoft.Extensions.Options.IOptions<DatabaseOptions> options) : IWriteGate
{
    public bool WritesAllowed => options.Value.WritesAllowed;
}
