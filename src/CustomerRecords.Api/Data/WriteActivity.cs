namespace CustomerRecords.Api.Data;

/// <summary>
/// Counts this instance's committed data changes, so background work that only matters after a change (numbering
/// the change feed) can stay away from an idle database — an Aurora Serverless database pauses only if nothing
/// queries it.
/// </summary>
internal sealed class WriteActivity
{
    private long _changes;

    /// <summary>How many changes this instance has committed since it started.</summary>
    public long Changes => Interlocked.Read(ref _changes);

    /// <summary>Called after a change commits.</summary>
    public void Record() => Interlocked.Increment(ref _changes);
}
