namespace CustomerRecords.Api.Customers;

internal static class CustomersExtensions
{
    public static WebApplicationBuilder AddCustomers(this WebApplicationBuilder builder)
    {
        builder.Services.ConfigureHttpJsonOptions(options =>
        {
            // The generated context supplies the metadata; the naming policy must also be set here
            // because a context placed in another options' resolver chain follows those options.
            options.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;

            // Responses are application/json, never HTML: "+1-555" and "Zoë" go out as written, not as \u escapes.
            options.SerializerOptions.Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
            options.SerializerOptions.TypeInfoResolverChain.Insert(0, CustomerJsonContext.Default);
        });
        return builder;
    }
}
