using System.Text.Json.Serialization;

namespace CustomerRecords.Api.History;

/// <summary>One change to a customer, as the history, the export and the change feed return it.</summary>
/// <param name="Seq">The event's number: unique, in the order events were appended (not necessarily the order they committed).</param>
/// <param name="Position">The event's place in the change feed (<c>/changes</c>); null for the moment between its commit and its sequencing.</param>
/// <param name="CustomerId">The customer the event is about.</param>
/// <param name="Kind">What happened: <c>created</c>, <c>updated</c>, <c>deleted</c>, <c>restored</c>, <c>erased</c> or <c>purged</c>.</param>
/// <param name="At">When it happened (UTC).</param>
/// <param name="Actor">Who did it: <c>key:</c> and the API key's name, <c>user:</c> and the token's subject, <c>client:</c> and the token's client id, or <c>anonymous</c>.</param>
/// <param name="TraceId">The W3C trace id of the request that made the change (32 hex digits), or null.</param>
/// <param name="Version">The customer's row version after the change.</param>
/// <param name="Changes">The changed fields with their values before and after; for an erased customer the field names stay and each value is <c>"[erased]"</c>; empty when no field changed.</param>
/// <param name="Erased">True when the customer was erased: the values of this event are gone.</param>
public sealed record CustomerEvent(
    long Seq,
    long? Position,
    int CustomerId,
    string Kind,
    DateTime At,
    string Actor,
    string? TraceId,
    int Version,
    IReadOnlyDictionary<string, FieldChange> Changes,
    bool Erased);

/// <summary>A field's value before and after a change (null: no value, e.g. no phone).</summary>
/// <param name="Before">The value before the change, or null.</param>
/// <param name="After">The value after the change, or null.</param>
public sealed record FieldChange(string? Before, string? After);

/// <summary>One page of a customer's history, newest first.</summary>
/// <param name="Items">The events on this page, newest first.</param>
/// <param name="Next">Opaque cursor of the next (older) page, pass it as <c>after</c>; null on the last page.</param>
public sealed record CustomerHistoryPage(IReadOnlyList<CustomerEvent> Items, string? Next);

/// <summary>One page of the change feed, in feed order.</summary>
/// <param name="Items">The events after the cursor, in feed order (ascending <c>position</c>).</param>
/// <param name="Next">Opaque cursor to poll with next: the last position returned, or the one given when the page is empty. Never null.</param>
public sealed record ChangeFeedPage(IReadOnlyList<CustomerEvent> Items, string Next);

/// <summary>What the service holds about the customer's row.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CustomerState>))]
public enum CustomerState
{
    /// <summary>The customer exists.</summary>
    [JsonStringEnumMemberName("live")]
    Live,

    /// <summary>Deleted (soft): the row is kept and can be restored.</summary>
    [JsonStringEnumMemberName("deleted")]
    Deleted,

    /// <summary>Erased: the row and every value in the history are gone; the history's skeleton stays.</summary>
    [JsonStringEnumMemberName("erased")]
    Erased,

    /// <summary>Purged: the row is gone for good; the history stays.</summary>
    [JsonStringEnumMemberName("purged")]
    Purged,
}

/// <summary>The customer's row as stored, deleted or not.</summary>
/// <param name="Id">Database id.</param>
/// <param name="Name">Display name.</param>
/// <param name="Email">Email address.</param>
/// <param name="Phone">Phone number, or null.</param>
/// <param name="CreatedAt">When the row was created (UTC).</param>
/// <param name="UpdatedAt">When the row was last changed (UTC).</param>
/// <param name="Version">Row version.</param>
/// <param name="DeletedAt">When the customer was deleted (UTC), or null while it is live.</param>
public sealed record ExportedCustomer(
    int Id,
    string Name,
    string Email,
    string? Phone,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    int Version,
    DateTime? DeletedAt);

/// <summary>Everything the service holds about one customer.</summary>
/// <param name="Customer">The row (also when deleted), or null once the customer was purged or erased.</param>
/// <param name="State">live, deleted, erased or purged.</param>
/// <param name="History">Every event kept for the customer, oldest first.</param>
/// <param name="ExportedAt">When this export was made (UTC).</param>
public sealed record CustomerExport(ExportedCustomer? Customer, CustomerState State, IReadOnlyList<CustomerEvent> History, DateTime ExportedAt);
