using Scalar.AspNetCore;

namespace CustomerRecords.Api.Docs;

internal static class ApiDocs
{
    public static WebApplicationBuilder AddApiDocs(this WebApplicationBuilder builder)
    {
        builder.Services.AddOpenApi(options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "CustomerRecords API";
                document.Info.Description = "Customer records over MySQL/MariaDB or SQLite, with the original app's routes kept for its clients.";
                return Task.CompletedTask;
            });
            options.AddDocumentTransformer<OpenApiSecurityTransformer>();
            options.AddOperationTransformer<OpenApiSecurityTransformer>();
        });
        return builder;
    }

    /// <summary>The OpenAPI document at <c>/openapi/v1.json</c> and an interactive page at <c>/docs</c>.</summary>
    public static WebApplication MapApiDocs(this WebApplication app)
    {
        // The API's description is public; the API itself is not.
        app.MapOpenApi().AllowAnonymous();
        app.MapScalarApiReference("/docs", options => options.WithOpenApiRoutePattern("/openapi/{documentName}.json")).AllowAnonymous();
        return app;
    }
}
