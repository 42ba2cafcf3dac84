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
}
