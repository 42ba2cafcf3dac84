using System.Buffers;
using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using CustomerRecords.Api.Auth;
using CustomerRecords.Api.Data;

namespace CustomerRecords.Api.Customers;

/// <summary>Who made a change, and in which request: recorded with every history event.</summary>
/// <param name="Actor"><c>key:&lt;API key name&gt;</c>, <c>user:&lt;JWT sub&gt;</c>, <c>client:&lt;JWT client_id&gt;</c>, <c>anonymous</c> (open mode), <c>system</c>, or <c>cli:import</c> / <c>cli:seed</c> (the bulk commands).</param>
/// <param name="TraceId">The W3C trace id of the request, when there is one.</param>
internal readonly record struct ChangeContext(string Actor, string? TraceId)
{
    private const int MaxActorLength = 300;

    /// <summary>The service itself (the purge of customers past the restore window).</summary>
    public static readonly ChangeContext System = new("system", null);

    public static ChangeContext From(HttpContext http) => new(ActorOf(http.User), TraceIdOf(Activity.Current));

    internal static string ActorOf(ClaimsPrincipal user)
    {
        if (user.Identity?.IsAuthenticated != true)
        {
            return "anonymous";
        }

        var actor = user.FindFirst(ApiKeyAuthenticationHandler.ClientClaim)?.Value is { Length: > 0 } key ? "key:" + key
            : (user.FindFirst("sub") ?? user.FindFirst(ClaimTypes.NameIdentifier))?.Value is { Length: > 0 } subject ? "user:" + subject
            : user.FindFirst("client_id")?.Value is { Length: > 0 } client ? "client:" + client
            : "anonymous";
        return actor.Length <= MaxActorLength ? actor : actor[..MaxActorLength];
    }

    private static string? TraceIdOf(Activity? activity) =>
        activity is null || activity.TraceId == default ? null : activity.TraceId.ToHexString();
}

/// <summary>The kinds of history event, as stored in <c>customer_events.kind</c>.</summary>
internal static class EventKinds
{
    public const string Created = "created";
    public const string Updated = "updated";
    public const string Deleted = "deleted";
    public const string Restored = "restored";
    public const string Erased = "erased";
    public const string Purged = "purged";
}

/// <summary>
/// The write side of the history: one row in <c>customer_events</c> per change, always inside the
/// transaction of the change itself, so a rolled-back write leaves no event and no event exists without
/// its change. The change feed's <c>position</c> is given later, after commit (see the History folder).
/// </summary>
internal static class CustomerEvents
{
    /// <summary>The event INSERT; <paramref name="customerId"/> is a parameter or, batched after the customer's own INSERT, the engine's last-insert-id expression.</summary>
    private static string InsertSql(string customerId) => $"""
        {InsertInto}
        VALUES ({customerId}, @e_kind, @e_at, @e_actor, @e_trace_id, @e_version, @e_fields, @e_changes)
        """;

    private const string InsertInto = "INSERT INTO customer_events (customer_id, kind, occurred_at, actor, trace_id, version, fields, changes)";

    /// <summary>
    /// Appends many events of one actor at one time in one multi-row INSERT (an import's batch): each is a change of
    /// customer <c>Id</c> from <c>Before</c> to <c>After</c> at <c>Version</c>.
    /// </summary>
    public static async Task AppendManyAsync(
        DbConnection connection,
        DbTransaction transaction,
        (int Id, string Kind, int Version, Customer? Before, Customer After)[] events,
        DateTime at,
        ChangeContext who,
        CancellationToken ct)
    {
        await using var command = connection.CreateCommand(string.Empty, transaction)
            .With("@at", at).With("@actor", who.Actor).With("@trace_id", who.TraceId);
        var sql = new StringBuilder(InsertInto).Append(" VALUES ");
        for (var i = 0; i < events.Length; i++)
        {
            var (id, kind, version, before, after) = events[i];
            var (fields, changes) = Describe(before, after);
            var n = i.ToString(CultureInfo.InvariantCulture);
            sql.Append(i == 0 ? "(" : ", (")
                .Append("@c").Append(n).Append(", @k").Append(n).Append(", @at, @actor, @trace_id, @v").Append(n)
                .Append(", @f").Append(n).Append(", @x").Append(n).Append(')');
            command.With("@c" + n, id).With("@k" + n, kind).With("@v" + n, version).With("@f" + n, fields).With("@x" + n, changes);
        }

        command.CommandText = sql.ToString();
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Appends the event of a change from <paramref name="before"/> to <paramref name="after"/> (either may be null).</summary>
    public static async Task AppendAsync(
        DbConnection connection,
        DbTransaction transaction,
        int customerId,
        string kind,
        int version,
        DateTime at,
        ChangeContext who,
        Customer? before,
        Customer? after,
        CancellationToken ct)
    {
        await using var command = connection.CreateCommand(string.Empty, transaction).With("@e_customer_id", customerId);
        AddTo(command, "@e_customer_id", kind, version, at, who, before, after);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Adds the event's INSERT to the end of <paramref name="command"/>, so that the change and its event travel to
    /// the server in one round trip (still one transaction: the caller's). <paramref name="customerId"/> is SQL: a
    /// parameter name, or the last-insert-id expression right after the customer's INSERT.
    /// </summary>
    public static DbCommand AddTo(DbCommand command, string customerId, string kind, int version, DateTime at, ChangeContext who, Customer? before, Customer? after)
    {
        var (fields, changes) = Describe(before, after);
        command.CommandText = command.CommandText.Length == 0 ? InsertSql(customerId) : command.CommandText.TrimEnd().TrimEnd(';') + ";\n" + InsertSql(customerId);
        return command
            .With("@e_kind", kind)
            .With("@e_at", at)
            .With("@e_actor", who.Actor)
            .With("@e_trace_id", who.TraceId)
            .With("@e_version", version)
            .With("@e_fields", fields)
            .With("@e_changes", changes);
    }

    /// <summary>Removes the values of every event of the customer, keeping the skeleton (kind, time, actor, fields).</summary>
    public static async Task<int> ScrubAsync(DbConnection connection, DbTransaction transaction, int customerId, DateTime at, CancellationToken ct)
    {
        await using var command = connection.CreateCommand(
            "UPDATE customer_events SET changes = NULL, erased_at = @at WHERE customer_id = @customer_id AND erased_at IS NULL", transaction)
            .With("@at", at)
            .With("@customer_id", customerId);
        return await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The names of the fields that differ, and their values before and after as JSON (null when none differ).</summary>
    internal static (string Fields, string? Changes) Describe(Customer? before, Customer? after)
    {
        if (after is null || (before is not null && SameFields(before, after)))
        {
            return (string.Empty, null);
        }

        var names = new StringBuilder();
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            Field(json, names, "name", before?.Name, after.Name);
            Field(json, names, "email", before?.Email, after.Email);
            Field(json, names, "phone", before?.Phone, after.Phone);
            json.WriteEndObject();
        }

        return (names.ToString(), Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    private static bool SameFields(Customer a, Customer b) =>
        string.Equals(a.Name, b.Name, StringComparison.Ordinal)
        && string.Equals(a.Email, b.Email, StringComparison.Ordinal)
        && string.Equals(a.Phone, b.Phone, StringComparison.Ordinal);

    private static void Field(Utf8JsonWriter json, StringBuilder names, string name, string? before, string? after)
    {
        if (string.Equals(before, after, StringComparison.Ordinal))
        {
            return;
        }

        names.Append(names.Length == 0 ? string.Empty : ",").Append(name);
        json.WriteStartObject(name);
        json.WriteString("before", before);
        json.WriteString("after", after);
        json.WriteEndObject();
    }
}
