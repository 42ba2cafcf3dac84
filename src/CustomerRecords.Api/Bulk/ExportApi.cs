using System.Globalization;
using CustomerRecords.Api.Auth;
using CustomerRecords.Api.Customers;
using CustomerRecords.Api.Docs;
using CustomerRecords.Api.Errors;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Net.Http.Headers;
using Microsoft.OpenApi;

namespace CustomerRecords.Api.Bulk;

/// <summary><c>GET /customers/export</c>: every live customer in one response, CSV or NDJSON, streamed from one snapshot.</summary>
internal static class ExportApi
{
    /// <summary>The export's services (the command line uses them too).</summary>
    public static WebApplicationBuilder AddCustomerExport(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<CustomerExport>();
        return builder;
    }

    public static RouteHandlerBuilder MapCustomerExport(this IEndpointRouteBuilder app) =>
        // A literal segment: routing prefers it to /customers/{id:int}, which "export" does not match anyway.
        app.MapGet("/customers/export", ExportCustomers).WithName(nameof(ExportCustomers))
            .WithTags("Customers")
            .RequireAuthorization(Scopes.Read)
            .WithSummary("Export every live customer (NDJSON or CSV)")
            .WithDescription(
                "One consistent snapshot of the live customers, in id order, streamed as it is read: a write committed while the export runs is not in it, "
                + "and no customer appears twice or is missed. Chosen by `Accept`: `application/x-ndjson` (the default, also for `*/*` or no `Accept`) — one customer "
                + "object per line, as `GET /customers/{id}` returns it — or `text/csv` (RFC 4180, UTF-8 without BOM, CRLF, header row "
                + $"`{string.Join(',', CustomerFile.Columns)}`, timestamps UTC ISO 8601 with six fraction digits, an empty `phone` for none). "
                + "The file imports back unchanged. Soft-deleted customers are not exported. A failure after the first bytes ends the response early (no final line break is the sign); retry the export.")
            .WithParameter("updated_since",
                "Only live customers changed at or after this instant: an RFC 3339 date-time with an offset (`2026-01-02T03:04:05.123456Z`), as in the list.",
                OpenApiSchemas.String(minLength: 1, format: "date-time"))
            .Produces(StatusCodes.Status200OK)
            .AddOpenApiOperationTransformer(async (operation, context, ct) =>
            {
                var customer = await context.GetOrCreateSchemaAsync(typeof(Customer), null, ct);
                operation.Responses ??= [];
                operation.Responses["200"] = new OpenApiResponse
                {
                    Description = "The customers, one per line (NDJSON: each line is a `Customer`) or one per CSV record.",
                    Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
                    {
                        [CustomerFile.NdjsonMediaType] = new() { Schema = customer },
                        [CustomerFile.CsvMediaType] = new()
                        {
                            Schema = new OpenApiSchema
                            {
                                Type = JsonSchemaType.String,
                                Description = $"CSV with the header row `{string.Join(',', CustomerFile.Columns)}`: id, name, email, phone (empty when none), "
                                    + "created_at and updated_at (UTC, `2026-12-02T05:22:33.123456Z`), version.",
                            },
                        },
                    },
                    Headers = new Dictionary<string, IOpenApiHeader>(StringComparer.OrdinalIgnoreCase)
                    {
                        [HeaderNames.ContentDisposition] = new OpenApiHeader
                        {
                            Description = "`attachment; filename=customers-<UTC time>.ndjson` (or `.csv`).",
                            Required = true,
                            Schema = OpenApiSchemas.String(pattern: "^attachment; filename=customers-[0-9]{8}T[0-9]{6}Z\\.(csv|ndjson)$"),
                        },
                        [HeaderNames.CacheControl] = new OpenApiHeader
                        {
                            Description = "`no-store`: personal data is kept by no cache.",
                            Required = true,
                            Schema = OpenApiSchemas.StringEnum(["no-store"]),
                        },
                    },
                };
            })
            .WithProblem(StatusCodes.Status400BadRequest, "`updated_since` is not an RFC 3339 date-time with an offset; `errors` names it.", ["validation"])
            .WithProblem(StatusCodes.Status406NotAcceptable, $"`Accept` allows neither `{CustomerFile.NdjsonMediaType}` nor `{CustomerFile.CsvMediaType}`.", ["not-acceptable"])
            .WithProblem(StatusCodes.Status503ServiceUnavailable,
                "The database is unreachable; retry after `Retry-After` seconds.", ["unavailable"], ResponseHeader.RetryAfter);

    public static async Task<Results<CustomerFileResult, ProblemHttpResult>> ExportCustomers(
        HttpContext http,
        CustomerExport export,
        TimeProvider clock,
        [FromQuery(Name = "updated_since")] string? updatedSince,
        CancellationToken ct)
    {
        if (ChooseFormat(http.Request.Headers.Accept) is not { } format)
        {
            return Problems.Problem(StatusCodes.Status406NotAcceptable, "not-acceptable", "Not Acceptable",
                $"The export is available as {CustomerFile.NdjsonMediaType} or {CustomerFile.CsvMediaType}.");
        }

        DateTime? since = null;
        if (updatedSince is not null)
        {
            if (!CustomerListQuery.TryParseTimestamp(updatedSince, out var parsed))
            {
                return Problems.Validation(new Dictionary<string, string[]>(StringComparer.Ordinal)
                {
                    ["updated_since"] = ["Must be an RFC 3339 date-time with an offset, such as 2026-01-02T03:04:05.123Z."],
                });
            }

            since = parsed;
        }

        // Opened before any byte is written: a database that does not answer is still a 503 problem here.
        var snapshot = await export.OpenAsync(since, ct);
        var name = string.Create(CultureInfo.InvariantCulture, $"customers-{clock.GetUtcNow():yyyyMMdd'T'HHmmss'Z'}.{(format == CustomerFileFormat.Csv ? "csv" : "ndjson")}");
        return new CustomerFileResult(snapshot, format, name);
    }

    /// <summary>
    /// The format <paramref name="accept"/> prefers: the highest quality among the two media types and the wildcards
    /// that cover them (<c>*/*</c> and <c>application/*</c> mean NDJSON, <c>text/*</c> CSV); NDJSON without an
    /// <c>Accept</c>; null when neither is acceptable (or the header cannot be read).
    /// </summary>
    internal static CustomerFileFormat? ChooseFormat(Microsoft.Extensions.Primitives.StringValues accept)
    {
        if (accept.Count == 0 || string.IsNullOrWhiteSpace(accept.ToString()))
        {
            return CustomerFileFormat.Ndjson;
        }

        if (!MediaTypeHeaderValue.TryParseList(accept, out var ranges))
        {
            return null;
        }

        CustomerFileFormat? best = null;
        var bestQuality = 0.0;
        var bestSpecific = false;
        foreach (var range in ranges)
        {
            var quality = range.Quality ?? 1.0;
            var type = range.MediaType.Value?.ToLowerInvariant();
            var (format, specific) = CustomerFile.FromMediaType(type) is { } named ? (named, true) : type switch
            {
                "*/*" or "application/*" => (CustomerFileFormat.Ndjson, false),
                "text/*" => (CustomerFileFormat.Csv, false),
                _ => ((CustomerFileFormat?)null, false),
            };
            if (format is null || quality <= 0)
            {
                continue;
            }

            if (quality > bestQuality || (quality == bestQuality && specific && !bestSpecific))
            {
                (best, bestQuality, bestSpecific) = (format, quality, specific);
            }
        }

        return best;
    }
}

/// <summary>
/// The export's body: headers first, then the snapshot written batch by batch and flushed after each. A client that
/// goes away cancels the read; the snapshot's transaction is rolled back and its connection returned either way, and
/// nothing about the rows is logged.
/// </summary>
internal sealed class CustomerFileResult(ExportSnapshot snapshot, CustomerFileFormat format, string fileName) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        await using (snapshot)
        {
            var response = httpContext.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = CustomerFile.MediaType(format) + "; charset=utf-8";
            response.Headers.ContentDisposition = "attachment; filename=" + fileName;
            response.Headers.CacheControl = "no-store";
            var aborted = httpContext.RequestAborted;
            try
            {
                await snapshot.WriteAsync(response.Body, format, afterBatch: null, aborted);
            }
            catch (Exception e) when (aborted.IsCancellationRequested && e is OperationCanceledException or IOException or System.Data.Common.DbException)
            {
                // The client went away: there is no one to answer, and nothing to report.
            }
        }
    }
}
