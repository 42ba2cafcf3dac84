using System.ComponentModel.DataAnnotations;

namespace CustomerRecords.Api.Customers;

/// <summary>Settings of the <c>Customers</c> section.</summary>
public sealed class CustomersOptions
{
    public const string Section = "Customers";

    /// <summary>
    /// Secret (at least 32 characters) from which the key that encrypts and authenticates list cursors is
    /// derived. Every instance behind one load balancer needs the same value; unset, each process makes a
    /// random key, so cursors work only on the instance that issued them and only until it restarts.
    /// </summary>
    [MinLength(32, ErrorMessage = "Customers:CursorKey must be at least 32 characters (e.g. openssl rand -base64 48).")]
    public string? CursorKey { get; set; }

    /// <summary>How long a deleted customer can be restored; after it, the purge removes the row for good.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00", ErrorMessage = "Customers:RestoreWindow must be between 1 second and 3650 days (e.g. 30.00:00:00).")]
    public TimeSpan RestoreWindow { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often each instance purges customers deleted longer ago than <see cref="RestoreWindow"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "Customers:PurgeInterval must be between 1 second and 1 day (e.g. 00:10:00).")]
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromMinutes(10);
}
