using System.Text.Json.Serialization;

namespace CustomerRecords.Api.Customers;

/// <summary>Source-generated JSON for the customer API: no reflection on the hot path, snake_case like the table.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(Customer))]
[JsonSerializable(typeof(CustomerEntry))]
[JsonSerializable(typeof(CustomerWrite))]
[JsonSerializable(typeof(CustomerPatch))]
[JsonSerializable(typeof(CustomerPage))]
internal sealed partial class CustomerJsonContext : JsonSerializerContext;
