using Scalar.AspNetCore;

namespace CustomerRecords.Api.Docs;

internal static class ApiDocs
{
    /// <summary>What each tag groups, shown by the docs page.</summary>
    private static readonly Dictionary<string, string> TagDescriptions = new(StringComparer.Ordinal)
    {
        ["Customers"] = "The resource API: JSON bodies in snake_case, strict parsing, ETags and conditional writes, problem documents (`application/problem+json`) on every error.",
        ["History"] = "The read side of the customer lifecycle: each customer's history and export, and the change feed of every customer's events in an order a follower can rely on.",
        ["Original routes"] = "The original app's routes, kept for its clients: its paths, bodies and `{\"error\": \"...\"}` shape (authentication, rate-limit and routing errors are problem documents there too). Unknown body fields are ignored, as they were.",
        ["Health"] = "For the load balancer: anonymous and never rate limited.",
    };

    public static WebApplicationBuilder AddApiDocs(this WebApplicationBuilder builder)
    {
        builder.Services.AddOpenApi(options =>
        {
            // After every operation's own responses (endpoint transformers run after the document-wide operation ones).
            options.AddDocumentTransformer<OpenApiCommonResponses>();
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "CustomerRecords API";
                document.Info.Description = "Customer records over MySQL/MariaDB or SQLite, with the original app's routes kept for its clients. "
                    + "Errors are RFC 9457 problem documents with a stable `type` (`urn:customer-records:problem:<name>`), except the original routes' own `{\"error\"}` answers.";
                foreach (var tag in document.Tags ?? Enumerable.Empty<Microsoft.OpenApi.OpenApiTag>())
                {
                    if (tag.Name is { } name && TagDescriptions.TryGetValue(name, out var description))
                    {
                        tag.Description = description;
                    }
                }

                // The server is the request's own origin; "http://host/" and "http://host" are the same base, without the slash linters accept.
                foreach (var server in document.Servers ?? Enumerable.Empty<Microsoft.OpenApi.OpenApiServer>())
                {
                    if (server.Url is { Length: > 1 } url && url.EndsWith('/'))
                    {
                        server.Url = url.TrimEnd('/');
                    }
                }

                // Responses in status order, whichever transformer added them.
                foreach (var operation in (document.Paths ?? []).Values.SelectMany(p => p.Operations?.Values ?? Enumerable.Empty<Microsoft.OpenApi.OpenApiOperation>()))
                {
                    if (operation.Responses is { Count: > 1 } responses)
                    {
                        var sorted = responses.OrderBy(r => r.Key, StringComparer.Ordinal).ToList();
                        responses.Clear();
                        foreach (var (status, response) in sorted)
                        {
                            responses.Add(status, response);
                        }
                    }
                }

                return Task.CompletedTask;
            });
            options.AddSchemaTransformer(OpenApiSchemas.PlainNumbers);
            options.AddDocumentTransformer<OpenApiSecurityTransformer>();
            options.AddOperationTransformer<OpenApiSecurityTransformer>();
            options.AddOperationTransformer<OpenApiCommonResponses>();
        });
        return builder;
    }

    /// <summary>The OpenAPI document at <c>/openapi/v1.json</c> and an interactive page at <c>/docs</c>.</summary>
    public static WebApplication MapApiDocs(this WebApplication app)
    {
        // The API's description is public; the API itself is not.
        app.MapOpenApi().AllowAnonymous();
        app.MapScalarApiReference("/docs", ConfigureDocsPage).AllowAnonymous();
        return app;
    }

    /// <summary>
    /// The /docs page loads only from this origin and points at no outside service: the system fonts instead
    /// of Scalar's font CDN, no telemetry, no AI agent or MCP server, no hosted client or developer toolbar.
    /// </summary>
    internal static void ConfigureDocsPage(ScalarOptions options) => options
        .WithOpenApiRoutePattern("/openapi/{documentName}.json")
        .WithTitle("CustomerRecords API")
        .DisableDefaultFonts()
        .DisableTelemetry()
        .DisableAgent()
        .DisableMcp()
        .HideClientButton()
        .HideDeveloperTools();
}
