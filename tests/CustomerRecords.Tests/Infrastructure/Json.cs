using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CustomerRecords.Tests.Infrastructure;

/// <summary>Small helpers for talking JSON to the API exactly as a client would.</summary>
public static class Json
{
    public static StringContent Body(string json, string mediaType = "application/json") =>
        new(json, Encoding.UTF8, new MediaTypeHeaderValue(mediaType));

    public static StringContent Body(object value, string mediaType = "application/json") =>
        Body(JsonSerializer.Serialize(value), mediaType);

    public static async Task<JsonObject> ReadObjectAsync(this HttpResponseMessage response) =>
        (JsonNode.Parse(await response.Content.ReadAsStringAsync()) as JsonObject)
        ?? throw new InvalidOperationException("Expected a JSON object.");

    /// <summary>A unique email for a test, so tests sharing a database never collide.</summary>
    public static string UniqueEmail(string tag = "user") => $"{tag}.{Guid.NewGuid():N}@example.com";
}
