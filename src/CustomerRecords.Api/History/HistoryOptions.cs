using System.ComponentModel.DataAnnotations;

namespace CustomerRecords.Api.History;

/// <summary>Settings of the <c>History</c> section: the change feed's sequencer and the retention of events.</summary>
public sealed class HistoryOptions
{
    public const string Section = "History";

    /// <summary>
    /// How long events are kept; older ones are deleted by the background purge. Unset (the default): kept
    /// forever. An erased customer's events are kept as skeletons (no values) like any other.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "36500.00:00:00", ErrorMessage = "History:Retention must be a positive time span (e.g. 365.00:00:00), or unset to keep events forever.")]
    public TimeSpan? Retention { get; set; }

    /// <summary>How often the retention purge runs (only when <see cref="Retention"/> is set).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "7.00:00:00", ErrorMessage = "History:PurgeInterval must be a positive time span of at most 7 days (e.g. 01:00:00).")]
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often the background sequencer gives committed events their change-feed position, without any reader asking.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00", ErrorMessage = "History:SequenceInterval must be a positive time span of at most 1 hour (e.g. 00:00:01).")]
    public TimeSpan SequenceInterval { get; set; } = TimeSpan.FromSeconds(1);
}
