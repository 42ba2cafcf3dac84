using System.Text.Json.Serialization;

namespace CustomerRecords.Api.History;

/// <summary>Source-generated JSON for the history, export and change feed responses (snake_case).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(CustomerEvent))]
[JsonSerializable(typeof(CustomerHistoryPage))]
[JsonSerializable(typeof(ChangeFeedPage))]
[JsonSerializable(typeof(CustomerExport))]
[JsonSerializable(typeof(ExportedCustomer))]
internal sealed partial class HistoryJsonContext : JsonSerializerContext;
