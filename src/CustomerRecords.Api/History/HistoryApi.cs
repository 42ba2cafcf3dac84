using System.Globalization;
using System.Text.Json;
using CustomerRecords.Api.Auth;
using CustomerRecords.Api.Customers;
using CustomerRecords.Api.Data;
using CustomerRecords.Api.Docs;
using CustomerRecords.Api.Errors;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Api.History;

/// <summary>The read side of the customer lifecycle: a customer's history, its export and the change feed of every customer.</summary>
internal static class HistoryApi
{
    public const int HistoryDefaultLimit = 20;
    public const int HistoryMaxLimit = 100;
    public const int FeedDefaultLimit = 100;
    public const int FeedMaxLimit = 1000;

    private const string InvalidCursor = "The cursor is not valid; pass the 'next' value of a previous page unchanged.";

    public static IEndpointRouteBuilder MapHistoryApi(this IEndpointRouteBuilder app)
    {
        var customers = app.MapGroup("/customers").WithTags("History");
        customers.MapGet("/{id:int}/history", GetCustomerHistory).WithName(nameof(GetCustomerHistory))
            .RequireAuthorization(Scopes.Read)
            .WithSummary("A customer's history, newest first")
            .WithDescription("Every kept change to the customer (also once it is deleted, purged or erased), newest first, in keyset pages. An erased customer's events keep their field names; each value reads `\"[erased]\"`.")
            .WithParameter("id", "The customer's id.")
            .WithParameter("limit", $"Events per page, 1–{HistoryMaxLimit}.", OpenApiSchemas.Integer(1, HistoryMaxLimit, HistoryDefaultLimit))
            .WithParameter("after", "The `next` cursor of the previous page of this customer's history, unchanged (opaque).", OpenApiSchemas.String(minLength: 1, maxLength: CursorProtector.MaxLength))
            .WithResponse(StatusCodes.Status200OK, "One page of events.")
            .WithProblem(StatusCodes.Status400BadRequest, "`limit` or `after` is invalid (or the cursor belongs to another customer); `errors` names it.", ["validation"])
            .WithProblem(StatusCodes.Status404NotFound, "No customer has this id, and no event of one is kept.", ["not-found"])
            .ProducesUnavailable();
        customers.MapGet("/{id:int}/export", ExportCustomer).WithName(nameof(ExportCustomer))
            .RequireAuthorization(Scopes.Read)
            .WithSummary("Everything held about a customer")
            .WithDescription("One JSON document: the row (also when deleted; null once purged or erased), the state, every kept event oldest first, and when it was made. Long histories are read in pages and streamed.")
            .WithParameter("id", "The customer's id.")
            .Produces<CustomerExport>(StatusCodes.Status200OK)
            .WithResponse(StatusCodes.Status200OK, "The export.")
            .WithProblem(StatusCodes.Status404NotFound, "No customer has this id, and no event of one is kept.", ["not-found"])
            .ProducesUnavailable();
        app.MapGet("/changes", GetChanges).WithName(nameof(GetChanges)).WithTags("History")
            .RequireAuthorization(Scopes.Read)
            .WithSummary("The change feed: every customer's events in feed order")
            .WithDescription("Follow it by polling with `after` set to the `next` of the previous answer, which is always a cursor (on an empty page, the one sent). A follower sees every event exactly once, in `position` order, however the writes' transactions commit.")
            .WithParameter("limit", $"Events per page, 1–{FeedMaxLimit}.", OpenApiSchemas.Integer(1, FeedMaxLimit, FeedDefaultLimit))
            .WithParameter("after", "The `next` cursor of the previous answer, unchanged (opaque); absent to start from the first event kept.", OpenApiSchemas.String(minLength: 1, maxLength: CursorProtector.MaxLength))
            .WithResponse(StatusCodes.Status200OK, "The events after the cursor, and the cursor to poll with next.")
            .WithProblem(StatusCodes.Status400BadRequest, "`limit` or `after` is invalid; `errors` names it.", ["validation"])
            .ProducesUnavailable();
        return app;
    }

    private static RouteHandlerBuilder ProducesUnavailable(this RouteHandlerBuilder builder) =>
        builder.WithProblem(StatusCodes.Status503ServiceUnavailable,
            "The database is unreachable or past `Database:OperationTimeout`; retry after `Retry-After` seconds.", ["unavailable"], ResponseHeader.RetryAfter);

    public static async Task<Results<Ok<CustomerHistoryPage>, ProblemHttpResult>> GetCustomerHistory(
        int id, [FromQuery] string? limit, [FromQuery] string? after, HistoryStore store, CursorProtector cursors, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var pageSize = ParseLimit(limit, HistoryDefaultLimit, HistoryMaxLimit, errors);
        long? before = null;
        if (after is not null)
        {
            if (TryOpen(cursors, after, "h", out var parts) && parts.Length == 2 && TryParseNumber(parts[1], out var seq) && TryParseNumber(parts[0], out var owner))
            {
                if (owner == id)
                {
                    before = seq;
                }
                else
                {
                    errors["after"] = ["The cursor belongs to another customer's history."];
                }
            }
            else
            {
                errors["after"] = [InvalidCursor];
            }
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var items = await store.HistoryAsync(id, before, pageSize + 1, ct);
        if (items.Count == 0 && !await store.ExistsAsync(id, ct))
        {
            return Problems.NotFound(id);
        }

        string? next = null;
        if (items.Count > pageSize)
        {
            items.RemoveAt(items.Count - 1);
            next = cursors.Seal(string.Create(CultureInfo.InvariantCulture, $"h:{id}:{items[^1].Seq}"));
        }

        return TypedResults.Ok(new CustomerHistoryPage(items, next));
    }

    public static async Task<IResult> ExportCustomer(int id, HistoryStore store, TimeProvider clock, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken ct)
    {
        var exportedAt = StoredClock.Now(clock);
        var (row, hasRow, hasEvents, erased) = await store.DescribeAsync(id, ct);
        if (!hasRow && !hasEvents)
        {
            return Problems.NotFound(id);
        }

        var state = erased ? CustomerState.Erased
            : row is null ? CustomerState.Purged
            : row.DeletedAt is null ? CustomerState.Live
            : CustomerState.Deleted;

        // The first page before the answer starts: a database that fails now still gets a 503.
        var first = await store.OldestFirstAsync(id, 0, ct);
        return new ExportResult(id, state is CustomerState.Live or CustomerState.Deleted ? row : null, state, first, exportedAt, store, json.Value.SerializerOptions);
    }

    public static async Task<Results<Ok<ChangeFeedPage>, ProblemHttpResult>> GetChanges(
        [FromQuery] string? limit, [FromQuery] string? after, HistoryStore store, FeedSequencer sequencer, CursorProtector cursors, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var pageSize = ParseLimit(limit, FeedDefaultLimit, FeedMaxLimit, errors);
        long from = 0;
        if (after is not null && !(TryOpen(cursors, after, "f", out var parts) && parts.Length == 1 && TryParseNumber(parts[0], out from)))
        {
            errors["after"] = [InvalidCursor];
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        // Whatever committed since the last tick gets its position first, so a follower never waits a tick for it.
        await sequencer.SequenceAsync(maxBatches: 1, ct);
        var items = await store.FeedAsync(from, pageSize, ct);
        var last = items.Count > 0 ? items[^1].Position!.Value : from;
        return TypedResults.Ok(new ChangeFeedPage(items, cursors.Seal(string.Create(CultureInfo.InvariantCulture, $"f:{last}"))));
    }

    private static int ParseLimit(string? limit, int defaultLimit, int maxLimit, Dictionary<string, string[]> errors)
    {
        if (limit is null)
        {
            return defaultLimit;
        }

        if (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < 1 || value > maxLimit)
        {
            errors["limit"] = [$"The limit must be a whole number from 1 to {maxLimit}."];
            return defaultLimit;
        }

        return value;
    }

    /// <summary>The parts after <paramref name="kind"/> of a sealed cursor <c>kind:part:...</c>.</summary>
    private static bool TryOpen(CursorProtector cursors, string token, string kind, out string[] parts)
    {
        parts = [];
        if (!cursors.TryOpen(token, out var cursor))
        {
            return false;
        }

        var all = cursor.Split(':');
        if (all.Length < 2 || all[0] != kind)
        {
            return false;
        }

        parts = all[1..];
        return true;
    }

    private static bool TryParseNumber(string text, out long value) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= 0;

    /// <summary>
    /// Writes the export as it reads it: the row and state, then the events page by page (each page one query
    /// of at most <see cref="HistoryStore.BatchSize"/>), so a long history never needs one huge query or buffer.
    /// </summary>
    private sealed class ExportResult(
        int id, ExportedCustomer? customer, CustomerState state, List<CustomerEvent> first, DateTime exportedAt, HistoryStore store, JsonSerializerOptions options) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var ct = httpContext.RequestAborted;
            var response = httpContext.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/json; charset=utf-8";
            var eventInfo = options.GetTypeInfo(typeof(CustomerEvent));
            await using var writer = new Utf8JsonWriter(response.BodyWriter, new JsonWriterOptions { Encoder = options.Encoder });
            writer.WriteStartObject();
            writer.WritePropertyName("customer");
            JsonSerializer.Serialize(writer, customer, options.GetTypeInfo(typeof(ExportedCustomer)));
            writer.WritePropertyName("state");
            JsonSerializer.Serialize(writer, state, options.GetTypeInfo(typeof(CustomerState)));
            writer.WriteStartArray("history");
            var page = first;
            while (page.Count > 0)
            {
                foreach (var item in page)
                {
                    JsonSerializer.Serialize(writer, item, eventInfo);
                }

                await writer.FlushAsync(ct);
                if (page.Count < HistoryStore.BatchSize)
                {
                    break;
                }

                page = await store.OldestFirstAsync(id, page[^1].Seq, ct);
            }

            writer.WriteEndArray();
            writer.WritePropertyName("exported_at");
            JsonSerializer.Serialize(writer, exportedAt, options.GetTypeInfo(typeof(DateTime)));
            writer.WriteEndObject();
            await writer.FlushAsync(ct);
        }
    }
}
