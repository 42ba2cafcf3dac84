using Microsoft.Extensions.Compliance.Classification;
using Microsoft.Extensions.Compliance.Redaction;

namespace CustomerRecords.Api.Redaction;

/// <summary>
/// Data classes of this service. Annotate <c>[LoggerMessage]</c> parameters with <see cref="PersonalDataAttribute"/>
/// or <see cref="SecretDataAttribute"/> and the redactor replaces their values in every log record.
/// </summary>
public static class DataTaxonomy
{
    /// <summary>Taxonomy name.</summary>
    public const string Name = "CustomerRecords";

    /// <summary>Personal data of customers: names, emails, phone numbers, addresses.</summary>
    public static DataClassification PersonalData { get; } = new(Name, nameof(PersonalData));

    /// <summary>Credentials: tokens, API keys, passwords, connection strings.</summary>
    public static DataClassification SecretData { get; } = new(Name, nameof(SecretData));
}

/// <summary>Marks a value as personal data (see <see cref="DataTaxonomy.PersonalData"/>).</summary>
[AttributeUsage(AttributeTargets.Parameter | AttributeTargets.Property | AttributeTargets.Field | AttributeTargets.ReturnValue)]
public sealed class PersonalDataAttribute : DataClassificationAttribute
{
    /// <summary>Creates the attribute.</summary>
    public PersonalDataAttribute() : base(DataTaxonomy.PersonalData)
    {
    }
}

/// <summary>Marks a value as a secret (see <see cref="DataTaxonomy.SecretData"/>).</summary>
[AttributeUsage(AttributeTargets.Parameter | AttributeTargets.Property | AttributeTargets.Field | AttributeTargets.ReturnValue)]
public sealed class SecretDataAttribute : DataClassificationAttribute
{
    /// <summary>Creates the attribute.</summary>
    public SecretDataAttribute() : base(DataTaxonomy.SecretData)
    {
    }
}

/// <summary>Replaces a classified value with a fixed marker, so a log line still shows that a value was there.</summary>
internal sealed class MarkerRedactor : Redactor
{
    internal const string Marker = "[redacted]";

    public override int GetRedactedLength(ReadOnlySpan<char> input) => Marker.Length;

    public override int Redact(ReadOnlySpan<char> source, Span<char> destination)
    {
        Marker.AsSpan().CopyTo(destination);
        return Marker.Length;
    }
}
