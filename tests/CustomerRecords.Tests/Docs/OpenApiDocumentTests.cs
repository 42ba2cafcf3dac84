using System.Text.Json.Nodes;
using CustomerRecords.Api.Auth;
using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.Docs;

/// <summary>
/// What the served document says, point by point, where a reader (or a validating proxy) relies on it:
/// optional fields, plain integers, described parameters and operations, errors with their media type,
/// and security schemes that are always there.
/// </summary>
public sealed class OpenApiDocumentTests
{
    private static async Task<JsonObject> DocumentAsync(Dictionary<string, string?>? extra = null)
    {
        var settings = CustomerApiFactory.SqliteSettings(TempDirectory.ForRun());
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        await using var factory = new CustomerApiFactory(settings);
        using var client = factory.CreateClient();
        return JsonNode.Parse(await client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)))!.AsObject();
    }

    private static IEnumerable<(string Name, JsonObject Operation)> Operations(JsonObject document) =>
        document["paths"]!.AsObject().SelectMany(p => p.Value!.AsObject()
            .Where(o => o.Value?["responses"] is not null)
            .Select(o => ($"{o.Key.ToUpperInvariant()} {p.Key}", o.Value!.AsObject())));

    private static IEnumerable<JsonNode> Descendants(JsonNode node) => node switch
    {
        JsonObject o => o.Select(p => p.Value).Where(v => v is not null).SelectMany(v => Descendants(v!)).Prepend(node),
        JsonArray a => a.Where(v => v is not null).SelectMany(v => Descendants(v!)).Prepend(node),
        _ => [node],
    };

    [Fact]
    public async Task NumbersArePlainNumbers()
    {
        var document = await DocumentAsync();
        var unions = Descendants(document).OfType<JsonObject>()
            .Where(o => o["type"] is JsonArray types && types.Any(t => (string?)t is "integer" or "number") && types.Any(t => (string?)t == "string"))
            .Select(o => o.GetPath()).ToList();
        Assert.True(unions.Count == 0, "integer-or-string types at: " + string.Join(", ", unions));
    }

    [Fact]
    public async Task EveryOperationAndParameterIsDescribed()
    {
        var document = await DocumentAsync();
        foreach (var (name, operation) in Operations(document))
        {
            Assert.False(string.IsNullOrWhiteSpace((string?)operation["summary"]), $"{name} has no summary");
            Assert.False(string.IsNullOrWhiteSpace((string?)operation["description"]), $"{name} has no description");
            foreach (var parameter in operation["parameters"]?.AsArray() ?? [])
            {
                Assert.False(string.IsNullOrWhiteSpace((string?)parameter!["description"]), $"{name}: parameter {parameter["name"]} has no description");
            }

            foreach (var (status, response) in operation["responses"]!.AsObject())
            {
                Assert.False(string.IsNullOrWhiteSpace((string?)response!["description"]), $"{name}: {status} has no description");
            }
        }
    }

    [Fact]
    public async Task EveryOperationButTheHealthProbesListsA4xxAnd5xx()
    {
        // redocly.yaml turns operation-4xx-response off for the probes' sake; this keeps it for the rest.
        var document = await DocumentAsync();
        foreach (var (name, operation) in Operations(document))
        {
            var statuses = operation["responses"]!.AsObject().Select(r => r.Key).ToList();
            if (!name.Contains("/health/", StringComparison.Ordinal))
            {
                Assert.True(statuses.Any(s => s.StartsWith('4')), $"{name} lists no 4xx");
                Assert.Contains("503", statuses);
            }

            Assert.Contains("500", statuses);
        }
    }

    [Fact]
    public async Task ErrorsHaveTheirShapeAndListTheirProblemTypes()
    {
        var document = await DocumentAsync();
        foreach (var (name, operation) in Operations(document))
        {
            var original = operation["tags"]![0]!.ToString() == "Original routes";
            foreach (var (status, response) in operation["responses"]!.AsObject().Where(r => r.Key[0] is '4' or '5'))
            {
                var content = response!["content"]!.AsObject();
                var problemOnly = status is "401" or "403" or "429" or "504";
                if (original && !problemOnly)
                {
                    Assert.Equal("#/components/schemas/OriginalError", (string?)content["application/json"]?["schema"]?["$ref"]);
                }
                else if (!name.Contains("/health/", StringComparison.Ordinal) || status != "503")
                {
                    Assert.True(content.ContainsKey("application/problem+json"), $"{name} {status} is not a problem document");
                }
            }
        }

        var schemas = document["components"]!["schemas"]!;
        Assert.Equal(["type", "title", "status"], schemas["Problem"]!["required"]!.AsArray().Select(r => (string)r!));
        Assert.NotNull(schemas["ValidationProblem"]!["properties"]!["errors"]);
        var conflict = document["paths"]!["/customers"]!["post"]!["responses"]!["409"]!["content"]!["application/problem+json"]!["schema"]!;
        Assert.Equal(
            ["urn:customer-records:problem:duplicate-email", "urn:customer-records:problem:idempotency-key-in-flight"],
            conflict["properties"]!["type"]!["enum"]!.AsArray().Select(t => (string)t!));
    }

    [Fact]
    public async Task BodiesSayWhatIsRequiredNullableAndRefused()
    {
        var document = await DocumentAsync();
        JsonNode Body(string path, string method, string media = "application/json") =>
            document["paths"]![path]![method]!["requestBody"]!["content"]![media]!["schema"]!;

        foreach (var (path, method) in new[] { ("/customers", "post"), ("/customers/{id}", "put") })
        {
            var body = Body(path, method);
            Assert.Equal(["name", "email"], body["required"]!.AsArray().Select(r => (string)r!));
            Assert.False((bool?)body["additionalProperties"], $"{method} {path} must refuse unknown fields");
        }

        var patch = Body("/customers/{id}", "patch", "application/merge-patch+json");
        Assert.Null(patch["required"]);
        Assert.False((bool?)patch["additionalProperties"]);
        Assert.Equal("string", (string?)patch["properties"]!["name"]!["type"]);
        Assert.Equal("string", (string?)patch["properties"]!["email"]!["type"]);
        Assert.Contains("null", patch["properties"]!["phone"]!["type"]!.AsArray().Select(t => (string?)t));

        var create = Body("/create", "post");
        Assert.Equal(["name", "email"], create["required"]!.AsArray().Select(r => (string)r!));
        Assert.Null(create["additionalProperties"]);
        Assert.Null(Body("/update/{id}", "put")["additionalProperties"]);

        var row = document["paths"]!["/read/{id}"]!["get"]!["responses"]!["200"]!["content"]!["application/json"]!["schema"]!["properties"]!["customer"]!;
        Assert.Equal("array", (string?)row["type"]);
        Assert.Equal(6, (int?)row["minItems"]);
    }

    [Fact]
    public async Task ListParametersHaveTheirBoundsAndValues()
    {
        var document = await DocumentAsync();
        var parameters = document["paths"]!["/customers"]!["get"]!["parameters"]!.AsArray().ToDictionary(p => (string)p!["name"]!, p => p!["schema"]!);
        Assert.Equal("integer", (string?)parameters["limit"]["type"]);
        Assert.Equal(1, (int?)parameters["limit"]["minimum"]);
        Assert.Equal(500, (int?)parameters["limit"]["maximum"]);
        Assert.Equal(50, (int?)parameters["limit"]["default"]);
        Assert.Equal(["id", "-id", "name", "-name", "created_at", "-created_at", "updated_at", "-updated_at", "-deleted_at", "deleted_at"], parameters["sort"]["enum"]!.AsArray().Select(v => (string)v!));
        Assert.Equal(["live", "deleted"], parameters["state"]["enum"]!.AsArray().Select(v => (string)v!));
        Assert.Equal("live", (string?)parameters["state"]["default"]);
        Assert.Equal(["exact", "estimated"], parameters["count"]["enum"]!.AsArray().Select(v => (string)v!));
        Assert.Equal("date-time", (string?)parameters["updated_since"]["format"]);
        Assert.Equal(1, (int?)parameters["q"]["minLength"]);
        Assert.Equal(255, (int?)parameters["q"]["maxLength"]);
        Assert.Equal("string", (string?)parameters["after"]["type"]);
        Assert.Equal("string", (string?)parameters["email"]["type"]);
    }

    [Fact]
    public async Task HeadersAreDocumented()
    {
        var document = await DocumentAsync();
        var post = document["paths"]!["/customers"]!["post"]!;
        Assert.Contains(post["parameters"]!.AsArray(), p => (string?)p!["name"] == "Idempotency-Key" && (string?)p["in"] == "header");
        var created = post["responses"]!["201"]!["headers"]!.AsObject();
        Assert.True((bool?)created["Location"]!["required"]);
        Assert.True((bool?)created["ETag"]!["required"]);
        Assert.False((bool?)created["Idempotent-Replayed"]!["required"] ?? false);
        Assert.True((bool?)post["responses"]!["503"]!["headers"]!["Retry-After"]!["required"]);
        var get = document["paths"]!["/customers/{id}"]!["get"]!;
        Assert.Contains(get["parameters"]!.AsArray(), p => (string?)p!["name"] == "If-None-Match");
        Assert.NotNull(get["responses"]!["200"]!["headers"]!["X-Cache"]);
        Assert.NotNull(get["responses"]!["304"]!["headers"]!["ETag"]);
        foreach (var method in new[] { "put", "patch", "delete" })
        {
            Assert.Contains(document["paths"]!["/customers/{id}"]![method]!["parameters"]!.AsArray(), p => (string?)p!["name"] == "If-Match");
        }
    }

    [Fact]
    public async Task SecuritySchemesAreAlwaysDeclared()
    {
        var open = await DocumentAsync();
        var schemes = open["components"]!["securitySchemes"]!.AsObject();
        Assert.Contains("Not configured", (string?)schemes["Bearer"]!["description"], StringComparison.Ordinal);
        Assert.Contains("Not configured", (string?)schemes["ApiKey"]!["description"], StringComparison.Ordinal);
        Assert.Equal("[{}]", open["security"]!.ToJsonString());
        Assert.Null(open["paths"]!["/customers"]!["get"]!["responses"]!["401"]);

        var secured = await DocumentAsync(new()
        {
            ["Auth:ApiKeys:0:Name"] = "reporting",
            ["Auth:ApiKeys:0:Hash"] = ApiKeyHash.Hash(ApiKeyHash.GenerateKey()),
            ["Auth:ApiKeys:0:Scopes:0"] = Scopes.Read,
        });
        var securedSchemes = secured["components"]!["securitySchemes"]!.AsObject();
        Assert.DoesNotContain("Not configured", (string?)securedSchemes["ApiKey"]!["description"], StringComparison.Ordinal);
        Assert.Contains("Not configured", (string?)securedSchemes["Bearer"]!["description"], StringComparison.Ordinal);
        var list = secured["paths"]!["/customers"]!["get"]!;
        Assert.Equal("[{\"ApiKey\":[\"customers:read\"]}]", list["security"]!.ToJsonString());
        Assert.True((bool?)list["responses"]!["401"]!["headers"]!["WWW-Authenticate"]!["required"]);
        Assert.NotNull(list["responses"]!["403"]!["content"]!["application/problem+json"]);
    }
}
