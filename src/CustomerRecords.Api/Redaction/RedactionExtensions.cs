namespace CustomerRecords.Api.Redaction;

/// <summary>No personal data or secret in any log line: classified values are redacted, the log guard scrubs the rest.</summary>
public static class RedactionExtensions
{
    /// <summary>
    /// Classified log values (<see cref="PersonalDataAttribute"/>, <see cref="SecretDataAttribute"/>) are redacted by
    /// Microsoft.Extensions.Compliance.Redaction; every logger provider is wrapped by the log guard when the
    /// container is built, so providers added later are covered too.
    /// </summary>
    public static WebApplicationBuilder AddLogRedaction(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddRedaction(r =>
        {
            r.SetRedactor<MarkerRedactor>(new Microsoft.Extensions.Compliance.Classification.DataClassificationSet(DataTaxonomy.PersonalData, DataTaxonomy.SecretData));
            r.SetFallbackRedactor<MarkerRedactor>();
        });
        builder.Logging.EnableRedaction();
        var development = builder.Environment.IsDevelopment();
        builder.Host.UseServiceProviderFactory(new LogGuardServiceProviderFactory(
            new ServiceProviderOptions { ValidateOnBuild = development, ValidateScopes = development }));
        return builder;
    }
}
