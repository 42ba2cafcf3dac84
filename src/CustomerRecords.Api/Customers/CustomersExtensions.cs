using CustomerRecords.Api.Caching;
using CustomerRecords.Api.Data;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Api.Customers;

internal static class CustomersExtensions
{
    /// <summary>The customer feature: its store, service, cache (by <c>Cache:Mode</c>), cache repairs, the purge of deleted customers, JSON and sample data.</summary>
    public static WebApplicationBuilder AddCustomers(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.ConfigureHttpJsonOptions(options =>
        {
            // The generated context supplies the metadata; the naming policy must also be set here
            // because a context placed in another options' resolver chain follows those options.
            options.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;

            // Responses are application/json, never HTML: "+1-555" and "Zoë" go out as written, not as \u escapes.
            options.SerializerOptions.Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
            options.SerializerOptions.TypeInfoResolverChain.Insert(0, CustomerJsonContext.Default);
        });
        services.Configure<CacheJsonOptions>(o => o.TypeInfoResolvers.Add(CustomerJsonContext.Default));

        services.AddOptions<CustomersOptions>().BindConfiguration(CustomersOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<CursorProtector>();
        services.AddSingleton<CustomerStore>();
        services.AddSingleton<CustomerService>();
        services.AddSingleton<CustomerCacheMetrics>();

        // Chosen when first resolved, so settings layered on after this call still count.
        services.AddSingleton<ICustomerCache>(sp =>
            sp.GetRequiredService<IOptions<CacheOptions>>().Value.Mode == CacheMode.None
                ? new NoCustomerCache()
                : ActivatorUtilities.CreateInstance<CustomerCache>(sp));
        services.AddHostedService<CustomerCacheRepairService>();
        services.AddSingleton<CustomerPurgeService>();
        services.AddHostedService(sp => sp.GetRequiredService<CustomerPurgeService>());
        services.AddSingleton<IAfterMigration, SampleCustomers>();
        return builder;
    }
}
