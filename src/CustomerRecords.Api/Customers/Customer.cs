namespace CustomerRecords.Api.Customers;

/// <summary>A stored customer, as the API returns it.</summary>
/// <param name="Id">Database id.</param>
/// <param name="Name">Display name, 1–255 characters.</param>
/// <param name="Email">Email address; unique regardless of letter case.</param>
/// <param name="Phone">Optional phone number.</param>
/// <param name="CreatedAt">When the row was created (UTC).</param>
/// <param name="UpdatedAt">When the row was last changed (UTC).</param>
/// <param name="Version">Row version, bumped by every change; the ETag is derived from it.</param>
public sealed record Customer(
    int Id,
    string Name,
    string Email,
    string? Phone,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    int Version);

/// <summary>Body of <c>POST /customers</c> and <c>PUT /customers/{id}</c>.</summary>
/// <param name="Name">Display name, 1–255 characters after trimming, no control characters.</param>
/// <param name="Email">A valid email address of at most 255 characters.</param>
/// <param name="Phone">Optional; at most 20 characters of digits, spaces and <c>+ - ( ) .</c>.</param>
public sealed record CustomerWrite(string Name, string Email, string? Phone);

/// <summary>Body of <c>PATCH /customers/{id}</c> (JSON merge patch): absent fields are kept, <c>null</c> clears <c>phone</c>.</summary>
public sealed record CustomerPatch(string? Name, string? Email, string? Phone);

/// <summary>One page of customers.</summary>
/// <param name="Items">The customers on this page.</param>
/// <param name="Next">Opaque cursor for the next page (pass as <c>after</c>), or null on the last page.</param>
public sealed record CustomerPage(IReadOnlyList<Customer> Items, string? Next);

/// <summary>A validated set of changes; <see cref="SetPhone"/> distinguishes "clear phone" from "leave it".</summary>
internal readonly record struct CustomerChange(string? Name, string? Email, bool SetPhone, string? Phone)
{
    /// <summary>What makes two creates "the same request" under one <c>Idempotency-Key</c>: the validated fields, whatever the JSON formatting.</summary>
    public string?[] IdempotencyFields => [Name, Email, Phone];
}
