using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;

namespace CustomerRecords.Api.Customers;

/// <summary>A stored customer, as the API returns it.</summary>
/// <param name="Id">Database id.</param>
/// <param name="Name">Display name, at most 255 characters, stored trimmed.</param>
/// <param name="Email">Email address, at most 255 characters; unique regardless of letter case.</param>
/// <param name="Phone">Phone number (at most 20 characters), or null when there is none.</param>
/// <param name="CreatedAt">When the row was created (UTC).</param>
/// <param name="UpdatedAt">When the row was last changed (UTC).</param>
/// <param name="Version">Row version, 1 on create and bumped by every change; the ETag is the version in quotes (<c>"3"</c>).</param>
/// <param name="DeletedAt">When the customer was deleted (UTC); present only in the listing of deleted customers, which can still be restored.</param>
public sealed record Customer(
    [property: Range(1, int.MaxValue)] int Id,
    [property: MaxLength(CustomerRules.NameMaxLength)] string Name,
    [property: MaxLength(CustomerRules.EmailMaxLength)] string Email,
    [property: MaxLength(CustomerRules.PhoneMaxLength)] string? Phone,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    [property: Range(1, int.MaxValue)] int Version,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTime? DeletedAt = null);

/// <summary>
/// Body of <c>POST /customers</c> and <c>PUT /customers/{id}</c> (a full replace: an absent phone clears it).
/// Unknown fields and server-owned fields (<c>id</c>, <c>created_at</c>, <c>updated_at</c>, <c>version</c>) are refused.
/// </summary>
/// <param name="Name">Display name: 1–255 characters after trimming, no control characters.</param>
/// <param name="Email">One plain address (<c>local@domain.tld</c>, no display name) of at most 255 characters after trimming.</param>
/// <param name="Phone">Optional; null, empty or absent means no phone. At most 20 characters of digits, spaces and <c>+ - ( ) .</c> after trimming.</param>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record CustomerWrite(
    [property: MinLength(1)] string Name,
    [property: MinLength(1)] string Email,
    [property: RegularExpression(CustomerWrite.PhonePattern)] string? Phone = null)
{
    /// <summary>A phone as sent: the rules' characters, at most 20 of them once surrounding whitespace is trimmed.</summary>
    internal const string PhonePattern = @"^\s*(?:[0-9+().-](?:[0-9 +().-]{0,18}[0-9+().-])?)?\s*$";
}

/// <summary>
/// Body of <c>PATCH /customers/{id}</c> (JSON merge patch): absent fields are kept; <c>null</c> clears
/// <c>phone</c> (name and email cannot be cleared). The same rules and refusals as <see cref="CustomerWrite"/>.
/// </summary>
/// <param name="Name">New display name: 1–255 characters after trimming, no control characters.</param>
/// <param name="Email">New email: one plain address of at most 255 characters after trimming.</param>
/// <param name="Phone">New phone, or null to clear it. At most 20 characters of digits, spaces and <c>+ - ( ) .</c> after trimming.</param>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record CustomerPatch(
    [property: MinLength(1)] string Name = null!,
    [property: MinLength(1)] string Email = null!,
    [property: RegularExpression(CustomerWrite.PhonePattern)] string? Phone = null);

/// <summary>One page of customers.</summary>
/// <param name="Items">The customers on this page, in the requested order.</param>
/// <param name="Next">Opaque cursor for the next page (pass as <c>after</c> with the same <c>sort</c> and <c>state</c>), or null on the last page.</param>
/// <param name="Total">How many customers match the filters over all pages; present only when <c>count</c> asks for it (with <c>count=estimated</c>, an estimate).</param>
public sealed record CustomerPage(
    IReadOnlyList<Customer> Items,
    string? Next,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Total = null);

/// <summary>A validated set of changes; <see cref="SetPhone"/> distinguishes "clear phone" from "leave it".</summary>
internal readonly record struct CustomerChange(string? Name, string? Email, bool SetPhone, string? Phone)
{
    /// <summary>What makes two creates "the same request" under one <c>Idempotency-Key</c>: the validated fields, whatever the JSON formatting.</summary>
    public string?[] IdempotencyFields => [Name, Email, Phone];
}
