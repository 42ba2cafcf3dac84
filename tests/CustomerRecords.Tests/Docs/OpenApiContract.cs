extern alias JsonEverything;

using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using JsonEverything::Json.Schema;

namespace CustomerRecords.Tests.Docs;

/// <summary>One request and its response, as the client sent and received them.</summary>
internal sealed record HttpExchange(
    string Method,
    string Path,
    string Query,
    IReadOnlyDictionary<string, string> RequestHeaders,
    string? RequestMediaType,
    byte[]? RequestBody,
    int Status,
    IReadOnlyDictionary<string, string> ResponseHeaders,
    string? ResponseMediaType,
    byte[] ResponseBody)
{
    public override string ToString() => $"{Method} {Path}{Query} → {Status}";
}

/// <summary>
/// An OpenAPI 3.1 document the service served, ready to check traffic against: which operation a request
/// is, whether the request is one the document allows (parameters, headers, body), and whether the
/// response is one it describes (status, headers, media type, body). Schemas are evaluated by
/// JsonSchema.Net as JSON Schema 2020-12, the dialect OpenAPI 3.1 schemas are written in; the document's
/// <c>#/components/schemas/*</c> become <c>$defs</c> of each schema evaluated.
/// </summary>
internal sealed partial class OpenApiContract
{
    private static readonly ConcurrentDictionary<string, OpenApiContract> Parsed = new(StringComparer.Ordinal);

    /// <summary>Headers whose presence means something to a client: each must be documented where it is sent.</summary>
    private static readonly string[] WatchedResponseHeaders = ["ETag", "Location", "Retry-After", "X-Cache", "Idempotent-Replayed", "WWW-Authenticate"];

    private static readonly EvaluationOptions Evaluation = new() { OutputFormat = OutputFormat.List, RequireFormatValidation = true };

    private readonly JsonObject _document;
    private readonly JsonObject _defs;
    private readonly List<Route> _routes = [];
    private readonly ConcurrentDictionary<string, JsonSchema> _schemas = new(StringComparer.Ordinal);

    private OpenApiContract(JsonObject document)
    {
        _document = document;
        _defs = (JsonObject)RewriteRefs(document["components"]?["schemas"]?.DeepClone() ?? new JsonObject());
        foreach (var (template, item) in document["paths"]!.AsObject())
        {
            var names = new List<string>();
            var pattern = "^" + TemplateParameter().Replace(Regex.Escape(template).Replace(@"\{", "{", StringComparison.Ordinal), m =>
            {
                names.Add(m.Groups[1].Value);
                return "([^/]+)";
            }) + "$";
            foreach (var (method, operation) in item!.AsObject())
            {
                if (operation is JsonObject op && op["responses"] is not null)
                {
                    _routes.Add(new Route(method.ToUpperInvariant(), template, new Regex(pattern, RegexOptions.CultureInvariant), names, op));
                }
            }
        }
    }

    public JsonObject Document => _document;

    /// <summary>Every documented operation as <c>METHOD /path/{template}</c>.</summary>
    public IEnumerable<string> Operations => _routes.Select(r => $"{r.Method} {r.Template}");

    public static OpenApiContract Parse(string json) =>
        Parsed.GetOrAdd(json, text => new OpenApiContract(JsonNode.Parse(text)!.AsObject()));

    /// <summary>The documented operation <paramref name="method"/> <paramref name="path"/> is, if any (path parameters must fit their schemas).</summary>
    public string? OperationOf(string method, string path) => Match(method, path)?.Route is { } route ? $"{route.Method} {route.Template}" : null;

    /// <summary>Every way <paramref name="exchange"/> departs from the document; empty when it conforms.</summary>
    public IReadOnlyList<string> Check(HttpExchange exchange)
    {
        var violations = new List<string>();
        var match = Match(exchange.Method, exchange.Path);
        if (match is null)
        {
            // Not a documented operation: only routing's own answers may come back, as problem documents.
            if (exchange.Status is 404 or 405)
            {
                CheckBody(violations, "undocumented route's answer", exchange.ResponseMediaType, exchange.ResponseBody,
                    new JsonObject { ["$ref"] = "#/components/schemas/Problem" }, "application/problem+json");
            }
            else
            {
                violations.Add($"the document has no operation {exchange.Method} {exchange.Path}, yet it answered {exchange.Status}");
            }

            return violations;
        }

        var (route, pathValues) = match.Value;
        var requestProblems = CheckRequest(route.Operation, pathValues, exchange);
        if (requestProblems.Count > 0 && exchange.Status < 400)
        {
            violations.Add($"the service accepted ({exchange.Status}) a request the document rejects: {string.Join("; ", requestProblems)}");
        }

        CheckResponse(violations, route.Operation, exchange);
        return violations;
    }

    private (Route Route, Dictionary<string, string> Values)? Match(string method, string path)
    {
        foreach (var route in _routes.Where(r => r.Method == method))
        {
            var m = route.Pattern.Match(path);
            if (!m.Success)
            {
                continue;
            }

            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < route.Names.Count; i++)
            {
                values[route.Names[i]] = Uri.UnescapeDataString(m.Groups[i + 1].Value);
            }

            // A value outside the parameter's schema is not this route (routing answers 404, as for /customers/abc).
            var fits = ParametersOf(route.Operation, "path").All(p => !values.TryGetValue((string)p["name"]!, out var v) || Validate(ParameterSchema(p), Coerce(ParameterSchema(p), v)).Count == 0);
            if (fits)
            {
                return (route, values);
            }
        }

        return null;
    }

    private List<string> CheckRequest(JsonObject operation, Dictionary<string, string> pathValues, HttpExchange exchange)
    {
        var problems = new List<string>();
        var query = ParseQuery(exchange.Query);
        foreach (var parameter in ParametersOf(operation, null))
        {
            var name = (string)parameter["name"]!;
            var location = (string)parameter["in"]!;
            string? value = location switch
            {
                "path" => pathValues.GetValueOrDefault(name),
                "query" => query.TryGetValue(name, out var values) ? values[0] : null,
                "header" => exchange.RequestHeaders.GetValueOrDefault(name),
                _ => null,
            };
            if (value is null)
            {
                if ((bool?)parameter["required"] == true)
                {
                    problems.Add($"{location} parameter {name} is required");
                }

                continue;
            }

            var schema = ParameterSchema(parameter);
            foreach (var error in Validate(schema, Coerce(schema, value)))
            {
                problems.Add($"{location} parameter {name}={Shorten(value)}: {error}");
            }
        }

        var body = operation["requestBody"];
        if (body is null)
        {
            return problems;
        }

        if (exchange.RequestBody is null || exchange.RequestBody.Length == 0)
        {
            if ((bool?)body["required"] == true)
            {
                problems.Add("the body is required");
            }

            return problems;
        }

        var content = body["content"]!.AsObject();
        if (exchange.RequestMediaType is null || !content.TryGetPropertyValue(exchange.RequestMediaType, out var media))
        {
            problems.Add($"body media type {exchange.RequestMediaType ?? "(none)"} is not one of {string.Join(", ", content.Select(c => c.Key))}");
            return problems;
        }

        JsonNode? instance;
        if (!(exchange.RequestMediaType == "application/json" || exchange.RequestMediaType.EndsWith("+json", StringComparison.Ordinal)))
        {
            // A text body (text/csv, application/x-ndjson) is one string to its schema.
            problems.AddRange(Validate(media!["schema"]!, JsonValue.Create(System.Text.Encoding.UTF8.GetString(exchange.RequestBody))).Select(e => "body " + e));
            return problems;
        }

        try
        {
            instance = JsonNode.Parse(exchange.RequestBody, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = false });
        }
        catch (JsonException)
        {
            problems.Add("the body is not JSON");
            return problems;
        }

        problems.AddRange(Validate(media!["schema"]!, instance).Select(e => "body " + e));
        return problems;
    }

    private void CheckResponse(List<string> violations, JsonObject operation, HttpExchange exchange)
    {
        var responses = operation["responses"]!.AsObject();
        var status = exchange.Status.ToString(CultureInfo.InvariantCulture);
        var response = responses[status] ?? responses[status[0] + "XX"] ?? responses["default"];
        if (response is null)
        {
            violations.Add($"status {status} is not documented (documented: {string.Join(", ", responses.Select(r => r.Key))})");
            return;
        }

        var headers = response["headers"]?.AsObject() ?? [];
        foreach (var (name, header) in headers)
        {
            var value = exchange.ResponseHeaders.GetValueOrDefault(name);
            if (value is null)
            {
                if ((bool?)header!["required"] == true)
                {
                    violations.Add($"{status}: required header {name} is missing");
                }

                continue;
            }

            var schema = header!["schema"]!;
            foreach (var error in Validate(schema, Coerce(schema, value)))
            {
                violations.Add($"{status}: header {name}: {Shorten(value)}: {error}");
            }
        }

        foreach (var name in WatchedResponseHeaders)
        {
            if (exchange.ResponseHeaders.ContainsKey(name) && !headers.Any(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)))
            {
                violations.Add($"{status}: header {name} is sent but not documented");
            }
        }

        var content = response["content"]?.AsObject();
        if (content is null || content.Count == 0)
        {
            if (exchange.ResponseBody.Length > 0)
            {
                violations.Add($"{status}: a body ({exchange.ResponseMediaType}) is sent but none is documented");
            }

            return;
        }

        // An NDJSON body of no lines (an export of nothing) is empty.
        if (exchange.ResponseBody.Length == 0 && !(exchange.ResponseMediaType == "application/x-ndjson" && content.ContainsKey("application/x-ndjson")))
        {
            violations.Add($"{status}: no body, but {string.Join(", ", content.Select(c => c.Key))} is documented");
            return;
        }

        if (exchange.ResponseMediaType is null || !content.TryGetPropertyValue(exchange.ResponseMediaType, out var media))
        {
            violations.Add($"{status}: media type {exchange.ResponseMediaType ?? "(none)"} is not documented ({string.Join(", ", content.Select(c => c.Key))})");
            return;
        }

        CheckBody(violations, status, exchange.ResponseMediaType, exchange.ResponseBody, media!["schema"]!, exchange.ResponseMediaType);
    }

    private void CheckBody(List<string> violations, string what, string? mediaType, byte[] body, JsonNode schema, string expectedMediaType)
    {
        if (mediaType != expectedMediaType)
        {
            violations.Add($"{what}: media type {mediaType ?? "(none)"}, documented {expectedMediaType}");
            return;
        }

        if (mediaType == "application/x-ndjson")
        {
            CheckLines(violations, what, body, schema);
            return;
        }

        if (mediaType == "text/csv")
        {
            // A CSV body is documented as one string (its columns in the description): it must be UTF-8 text.
            string text;
            try
            {
                text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(body);
            }
            catch (DecoderFallbackException)
            {
                violations.Add($"{what}: the CSV body is not UTF-8");
                return;
            }

            violations.AddRange(Validate(schema, JsonValue.Create(text)).Select(e => $"{what}: body {e}"));
            return;
        }

        JsonNode? instance;
        try
        {
            instance = JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            violations.Add($"{what}: the body is not JSON: {Shorten(Encoding.UTF8.GetString(body))}");
            return;
        }

        violations.AddRange(Validate(schema, instance).Select(e => $"{what}: body {e}"));
    }

    /// <summary>NDJSON: every line ends with <c>\n</c> and is one JSON value valid against the media type's schema (the schema of a line).</summary>
    private void CheckLines(List<string> violations, string what, byte[] body, JsonNode schema)
    {
        var text = Encoding.UTF8.GetString(body);
        if (!text.EndsWith('\n'))
        {
            violations.Add($"{what}: the NDJSON body does not end with a line break");
        }

        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Length == 0 && i == lines.Length - 1)
            {
                continue;
            }

            JsonNode? instance;
            try
            {
                instance = JsonNode.Parse(lines[i]);
            }
            catch (JsonException)
            {
                violations.Add($"{what}: NDJSON line {i + 1} is not JSON: {Shorten(lines[i])}");
                continue;
            }

            violations.AddRange(Validate(schema, instance).Select(e => $"{what}: NDJSON line {i + 1} {e}"));
        }
    }

    /// <summary>Validation errors of <paramref name="instance"/> against an OpenAPI schema object of this document.</summary>
    private List<string> Validate(JsonNode schema, JsonNode? instance)
    {
        var text = schema.ToJsonString();
        var compiled = _schemas.GetOrAdd(text, _ =>
        {
            var wrapper = new JsonObject
            {
                ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
                ["$defs"] = _defs.DeepClone(),
                ["allOf"] = new JsonArray(RewriteRefs(schema.DeepClone())),
            };
            return JsonSchema.FromText(wrapper.ToJsonString(), new BuildOptions { SchemaRegistry = new SchemaRegistry() });
        });
        using var json = JsonDocument.Parse(instance?.ToJsonString() ?? "null");
        var result = compiled.Evaluate(json.RootElement, Evaluation);
        if (result.IsValid)
        {
            return [];
        }

        var errors = (result.Details ?? [])
            .Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"at '{d.InstanceLocation}' ({d.EvaluationPath}): {e.Value}"))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        return errors.Count > 0 ? errors : ["does not match the schema"];
    }

    /// <summary>A parameter or header value as the JSON its schema describes: numbers and booleans when the schema says so.</summary>
    private JsonValue Coerce(JsonNode schema, string value)
    {
        var resolved = Resolve(schema);
        var types = resolved["type"] switch
        {
            JsonArray array => array.Select(t => (string)t!).ToArray(),
            JsonValue one => [(string)one!],
            _ => [],
        };
        if ((types.Contains("integer") || types.Contains("number"))
            && decimal.TryParse(value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var number))
        {
            return JsonValue.Create(number);
        }

        if (types.Contains("boolean") && bool.TryParse(value, out var flag))
        {
            return JsonValue.Create(flag);
        }

        return JsonValue.Create(value);
    }

    private JsonObject Resolve(JsonNode schema)
    {
        var node = schema.AsObject();
        while (node["$ref"] is JsonValue reference && ((string)reference!).StartsWith("#/components/schemas/", StringComparison.Ordinal))
        {
            node = _document["components"]!["schemas"]![((string)reference!)["#/components/schemas/".Length..]]!.AsObject();
        }

        return node;
    }

    private static JsonNode ParameterSchema(JsonNode parameter) => parameter["schema"] ?? new JsonObject();

    private static IEnumerable<JsonNode> ParametersOf(JsonObject operation, string? location) =>
        (operation["parameters"]?.AsArray() ?? []).Where(p => p is not null && (location is null || (string?)p["in"] == location))!;

    private static Dictionary<string, List<string>> ParseQuery(string query)
    {
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var at = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString((at < 0 ? pair : pair[..at]).Replace('+', ' '));
            var value = at < 0 ? string.Empty : Uri.UnescapeDataString(pair[(at + 1)..].Replace('+', ' '));
            if (!result.TryGetValue(name, out var values))
            {
                result[name] = values = [];
            }

            values.Add(value);
        }

        return result;
    }

    /// <summary>Points the document's component references at the <c>$defs</c> of the schema being evaluated.</summary>
    private static JsonNode RewriteRefs(JsonNode node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj.ToList())
                {
                    if (key == "$ref" && value is JsonValue reference && ((string)reference!).StartsWith("#/components/schemas/", StringComparison.Ordinal))
                    {
                        obj[key] = "#/$defs/" + ((string)reference!)["#/components/schemas/".Length..];
                    }
                    else if (value is not null)
                    {
                        RewriteRefs(value);
                    }
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    if (item is not null)
                    {
                        RewriteRefs(item);
                    }
                }

                break;
        }

        return node;
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "…";

    /// <summary>Header values as one string each, content headers included.</summary>
    public static Dictionary<string, string> Flatten(HttpHeaders headers, HttpHeaders? content = null)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in headers.NonValidated)
        {
            result[name] = string.Join(", ", values);
        }

        if (content is not null)
        {
            foreach (var (name, values) in content.NonValidated)
            {
                result[name] = string.Join(", ", values);
            }
        }

        return result;
    }

    [GeneratedRegex(@"\{([^}]+)\}")]
    private static partial Regex TemplateParameter();

    private sealed record Route(string Method, string Template, Regex Pattern, List<string> Names, JsonObject Operation);
}
