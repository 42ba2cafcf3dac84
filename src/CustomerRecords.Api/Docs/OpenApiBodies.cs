using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace CustomerRecords.Api.Docs;

internal static class OpenApiBodies
{
    /// <summary>
    /// Documents a JSON request body of <typeparamref name="T"/>. Handlers read bodies themselves
    /// (strict parsing, our own 413/415 answers), so <c>Accepts&lt;T&gt;</c> — which also makes routing
    /// reject other media types before the handler runs — is not used.
    /// </summary>
    public static RouteHandlerBuilder DocumentsBody<T>(this RouteHandlerBuilder builder, params string[] mediaTypes) =>
        builder.AddOpenApiOperationTransformer(async (operation, context, ct) =>
        {
            var schema = await context.GetOrCreateSchemaAsync(typeof(T), null, ct);
            var body = new OpenApiRequestBody { Required = true, Content = new Dictionary<string, OpenApiMediaType>() };
            foreach (var mediaType in mediaTypes)
            {
                body.Content[mediaType] = new OpenApiMediaType { Schema = schema };
            }

            operation.RequestBody = body;
        });
}
