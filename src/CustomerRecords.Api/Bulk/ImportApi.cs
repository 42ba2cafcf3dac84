using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using CustomerRecords.Api.Auth;
using CustomerRecords.Api.Customers;
using CustomerRecords.Api.Docs;
using CustomerRecords.Api.Errors;
using CustomerRecords.Api.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace CustomerRecords.Api.Bulk;

/// <summary>One rejected line of an import: where and why, never the value.</summary>
/// <param name="Line">Line of the body where the row starts (the CSV header is line 1).</param>
/// <param name="Field">The column or field at fault; <c>$</c> for the row as a whole.</param>
/// <param name="Reason">Why the row was left out.</param>
public sealed record ImportRejectionItem([property: Range(1, long.MaxValue)] long Line, string Field, string Reason);

/// <summary>What an import did.</summary>
/// <param name="Read">Rows read.</param>
/// <param name="Created">Customers created.</param>
/// <param name="Updated">Customers changed (with <c>on_conflict=update</c>).</param>
/// <param name="Unchanged">Rows whose customer already held the same values (with <c>on_conflict=update</c>): no write.</param>
/// <param name="Skipped">Rows whose email a live customer already holds (with <c>on_conflict=skip</c>).</param>
/// <param name="Rejected">Rows left out; the first of them are listed in <c>rejections</c>.</param>
/// <param name="DryRun">True when nothing was written (<c>dry_run=true</c>): the counts say what would have happened.</param>
/// <param name="Rejections">The first rejected lines, in order.</param>
/// <param name="RejectionsOmitted">How many more rejections there were than listed.</param>
public sealed record ImportResult(
    [property: Range(0, long.MaxValue)] long Read,
    [property: Range(0, long.MaxValue)] long Created,
    [property: Range(0, long.MaxValue)] long Updated,
    [property: Range(0, long.MaxValue)] long Unchanged,
    [property: Range(0, long.MaxValue)] long Skipped,
    [property: Range(0, long.MaxValue)] long Rejected,
    bool DryRun,
    IReadOnlyList<ImportRejectionItem> Rejections,
    [property: Range(0, long.MaxValue)] long RejectionsOmitted);

/// <summary>Source-generated JSON of the bulk routes, snake_case like the rest of the API.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(ImportResult))]
internal sealed partial class BulkJsonContext : JsonSerializerContext;

/// <summary><c>POST /customers/import</c>: the import engine over a request body of CSV or NDJSON.</summary>
internal static class ImportApi
{
    /// <summary>Most rejections a response lists; the rest are counted in <c>rejections_omitted</c>.</summary>
    public const int MaxListedRejections = 1000;

    public static RouteHandlerBuilder MapImportApi(this IEndpointRouteBuilder app)
    {
        var route = app.MapPost("/customers/import", ImportCustomers);
        route.DisableRequestTimeout();
        return route.WithName(nameof(ImportCustomers)).WithTags("Customers")
            .RequireAuthorization(Scopes.Write)
            .WithSummary("Import customers from a CSV or NDJSON body")
            .WithDescription(
                "The body is a customer file as `import` reads it: `text/csv` (RFC 4180, UTF-8, a header row of `id,name,email,phone,created_at,updated_at,version` or any of them in any order; `name` and `email` required) " +
                "or `application/x-ndjson` (one customer object per line, the API's own representation). Read as it arrives, up to `Limits:ImportMaxBytes`; not subject to `Limits:RequestTimeout`. " +
                "Every row is checked with the rules of `POST /customers`; a bad row is rejected with its line and field and the rest go in, in transactions of 1,000 rows with their history events. " +
                "A row whose email a live customer holds is a conflict (`on_conflict`), so the same body sent twice creates nothing the second time. " +
                "A file error (its header, a record longer than 1 MiB) is a 422; batches before it stay committed, as its `detail` says.")
            .WithParameter("on_conflict", "What a row whose email a live customer already holds (letter case ignored) does: `skip` (default), `update` (its name and phone; identical values are `unchanged`), or `fail` (409; nothing of its batch is written).",
                OpenApiSchemas.StringEnum(["skip", "update", "fail"], "skip"))
            .WithParameter("dry_run", "`true`: check and count against the database, write nothing.", OpenApiSchemas.StringEnum(["true", "false"], "false"))
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                var text = new OpenApiSchema { Type = JsonSchemaType.String };
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        [CustomerFile.CsvMediaType] = new() { Schema = text },
                        [CustomerFile.NdjsonMediaType] = new() { Schema = text },
                    },
                };
                return Task.CompletedTask;
            })
            .WithResponse(StatusCodes.Status200OK, "What the import did, with the first rejected lines (line, field, reason; never the values).")
            .WithProblem(StatusCodes.Status400BadRequest, "`on_conflict` or `dry_run` is not one of its values; `errors` names it.", ["validation"])
            .WithProblem(StatusCodes.Status409Conflict, "`on_conflict=fail` and a live customer already has a row's email; `detail` names the line and what was committed before it.", ["import-conflict"])
            .WithProblem(StatusCodes.Status413PayloadTooLarge, "The body is larger than `Limits:ImportMaxBytes`.", ["body-too-large"])
            .WithProblem(StatusCodes.Status415UnsupportedMediaType, "The body is neither `text/csv` nor `application/x-ndjson`.", ["unsupported-media-type"])
            .WithProblem(StatusCodes.Status422UnprocessableEntity, "The body is not a customer file (its header, an unreadable record); `detail` names the line and what was committed before it.", ["invalid-file"])
            .WithProblem(StatusCodes.Status503ServiceUnavailable,
                "The database is unreachable or past `Database:OperationTimeout`; batches before it stay committed. Retry after `Retry-After` seconds: rows already in are skipped.", ["unavailable"], ResponseHeader.RetryAfter);
    }

    public static async Task<Results<Ok<ImportResult>, ProblemHttpResult>> ImportCustomers(
        HttpContext http,
        CustomerImporter importer,
        IOptions<LimitsOptions> limits,
        [FromQuery(Name = "on_conflict")] string? onConflictValue,
        [FromQuery(Name = "dry_run")] string? dryRunValue,
        CancellationToken ct)
    {
        var mediaType = Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var parsed) ? parsed.MediaType.Value : null;
        var format = CustomerFile.FromMediaType(mediaType);
        if (format is null)
        {
            return Problems.Problem(StatusCodes.Status415UnsupportedMediaType, "unsupported-media-type", "Unsupported media type",
                $"Send the file as {CustomerFile.CsvMediaType} or {CustomerFile.NdjsonMediaType}.");
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var onConflict = onConflictValue switch
        {
            null or "skip" => ImportConflict.Skip,
            "update" => ImportConflict.Update,
            "fail" => ImportConflict.Fail,
            _ => (ImportConflict?)null,
        };
        if (onConflict is null)
        {
            errors["on_conflict"] = ["Must be skip, update or fail."];
        }

        var dryRun = dryRunValue switch
        {
            null or "false" => false,
            "true" => true,
            _ => (bool?)null,
        };
        if (dryRun is null)
        {
            errors["dry_run"] = ["Must be true or false."];
        }

        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var max = limits.Value.ImportMaxBytes;
        if (http.Request.ContentLength > max)
        {
            return TooLarge(max, null);
        }

        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = max;
        }

        var rejections = new List<ImportRejectionItem>();
        long omitted = 0;
        ImportSummary summary;
        try
        {
            summary = await importer.RunAsync(
                CustomerFileReader.ReadAsync(http.Request.Body, format.Value, ct),
                new ImportOptions(onConflict!.Value, dryRun!.Value),
                ChangeContext.From(http),
                r =>
                {
                    if (rejections.Count < MaxListedRejections)
                    {
                        rejections.Add(new ImportRejectionItem(r.Line, r.Field, r.Reason));
                    }
                    else
                    {
                        omitted++;
                    }
                },
                _ => { },
                TimeProvider.System,
                ct);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge(max, "Batches read before the limit was reached may have been committed; sending the file again in parts skips them.");
        }

        if (summary.StoppedAtLine is not null)
        {
            var detail = summary.Describe("import").Split(Environment.NewLine)[^1];
            return summary.FileError
                ? Problems.Problem(StatusCodes.Status422UnprocessableEntity, "invalid-file", "The body is not a customer file", detail)
                : Problems.Problem(StatusCodes.Status409Conflict, "import-conflict", "A live customer already has a row's email", detail);
        }

        return TypedResults.Ok(new ImportResult(
            summary.Read, summary.Created, summary.Updated, summary.Unchanged, summary.Skipped, summary.Rejected, summary.DryRun, rejections, omitted));
    }

    private static ProblemHttpResult TooLarge(long max, string? more) =>
        Problems.Problem(StatusCodes.Status413PayloadTooLarge, "body-too-large", "The body is too large",
            $"An import body may hold at most {max} bytes (Limits:ImportMaxBytes).{(more is null ? "" : " " + more)}");
}
