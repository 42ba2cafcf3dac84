namespace CustomerRecords.Api.Bulk;

internal static class BulkExtensions
{
    /// <summary>The bulk feature: the import engine that <c>import</c>, <c>seed</c> and <c>POST /customers/import</c> share.</summary>
    public static WebApplicationBuilder AddBulk(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<CustomerImporter>();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, BulkJsonContext.Default));
        return builder;
    }
}
