namespace CustomerRecords.Api.Idempotency;

internal static class IdempotencyExtensions
{
    /// <summary>The key store (in the database, shared by every instance) and its hourly purge.</summary>
    public static WebApplicationBuilder AddIdempotency(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IdempotencyStore>();
        builder.Services.AddHostedService<IdempotencyPurgeService>();
        return builder;
    }
}
