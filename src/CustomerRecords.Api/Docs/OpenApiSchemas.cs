using System.Text.Json.Nodes;
using CustomerRecords.Api.Errors;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace CustomerRecords.Api.Docs;

/// <summary>
/// Schemas the document shares: the problem document (<c>Problem</c>, <c>ValidationProblem</c>), small
/// builders for parameter schemas, and the fix that makes numbers plain numbers.
/// </summary>
internal static class OpenApiSchemas
{
    public const string ProblemMediaType = "application/problem+json";

    internal const string ProblemName = "Problem";

    internal const string ValidationProblemName = "ValidationProblem";

    /// <summary>The pattern the generator puts on integers when the JSON options read numbers from strings.</summary>
    private const string IntegerFromStringPattern = @"^-?(?:0|[1-9]\d*)$";

    private const string NumberFromStringPattern = @"^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$";

    /// <summary>
    /// The web JSON defaults (<c>JsonNumberHandling.AllowReadingFromString</c>) make the generator describe
    /// every number as <c>["integer", "string"]</c> with a digits pattern. The service writes numbers as
    /// numbers, and request bodies are read by its own strict parser, which takes no numbers as strings: so
    /// the string alternative (and its pattern) is dropped.
    /// </summary>
    public static Task PlainNumbers(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (schema.Type is { } type
            && type.HasFlag(JsonSchemaType.String)
            && (type.HasFlag(JsonSchemaType.Integer) || type.HasFlag(JsonSchemaType.Number))
            && schema.Pattern is IntegerFromStringPattern or NumberFromStringPattern)
        {
            schema.Type = type & ~JsonSchemaType.String;
            schema.Pattern = null;
        }

        return Task.CompletedTask;
    }

    /// <summary>A reference to the shared <c>Problem</c> schema, added to the document on first use.</summary>
    public static IOpenApiSchema ProblemReference(OpenApiDocument document)
    {
        document.AddComponent<IOpenApiSchema>(ProblemName, new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "An RFC 9457 problem document. Branch on `type`; `title` is for people and may be reworded.",
            Required = new HashSet<string>(StringComparer.Ordinal) { "type", "title", "status" },
            Properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal)
            {
                ["type"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.String,
                    Format = "uri",
                    Pattern = "^" + Problems.TypePrefix.Replace(".", "\\.", StringComparison.Ordinal) + "[a-z0-9-]+$",
                    Description = $"Stable problem type, `{Problems.TypePrefix}<name>`.",
                },
                ["title"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "Short summary for people." },
                ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "400", Maximum = "599", Description = "The HTTP status." },
                ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "What happened, for people." },
                ["instance"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The request this problem is about." },
            },
        });
        return new OpenApiSchemaReference(ProblemName, document);
    }

    /// <summary>A reference to the shared <c>ValidationProblem</c> schema (a <c>Problem</c> with <c>errors</c> per field).</summary>
    public static IOpenApiSchema ValidationProblemReference(OpenApiDocument document)
    {
        var problem = ProblemReference(document);
        document.AddComponent<IOpenApiSchema>(ValidationProblemName, new OpenApiSchema
        {
            Description = "A field is missing or invalid: `errors` names each field (`$` for the body as a whole) with its messages.",
            AllOf = [problem],
            Type = JsonSchemaType.Object,
            Required = new HashSet<string>(StringComparer.Ordinal) { "errors" },
            Properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal)
            {
                ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [JsonValue.Create(Problems.TypePrefix + "validation")] },
                ["errors"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Description = "Messages per field.",
                    AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
                },
            },
        });
        return new OpenApiSchemaReference(ValidationProblemName, document);
    }

    /// <summary>
    /// The schema of one problem response: the <c>Problem</c> whose <c>type</c> is one of <paramref name="names"/>
    /// and whose <c>status</c> is <paramref name="status"/>; with <c>validation</c> among them, a
    /// <c>ValidationProblem</c> for that one.
    /// </summary>
    public static IOpenApiSchema ProblemFor(OpenApiDocument document, int status, IReadOnlyCollection<string> names)
    {
        var others = names.Where(n => n != "validation").ToList();
        var plain = new OpenApiSchema
        {
            AllOf = [ProblemReference(document)],
            Type = JsonSchemaType.Object,
            Properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal)
            {
                ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Enum = others.Select(n => (JsonNode)JsonValue.Create(Problems.TypePrefix + n)).ToList() },
                ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Enum = [JsonValue.Create(status)] },
            },
        };
        if (!names.Contains("validation"))
        {
            return plain;
        }

        var validation = ValidationProblemReference(document);
        return others.Count == 0 ? validation : new OpenApiSchema { OneOf = [validation, plain] };
    }

    public static OpenApiSchema Integer(int minimum, int? maximum = null, int? defaultValue = null, string? format = "int32") => new()
    {
        Type = JsonSchemaType.Integer,
        Format = format,
        Minimum = minimum.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Maximum = maximum?.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Default = defaultValue is { } d ? JsonValue.Create(d) : null,
    };

    public static OpenApiSchema String(int? minLength = null, int? maxLength = null, string? pattern = null, string? format = null) => new()
    {
        Type = JsonSchemaType.String,
        MinLength = minLength,
        MaxLength = maxLength,
        Pattern = pattern,
        Format = format,
    };

    public static OpenApiSchema StringEnum(IEnumerable<string> values, string? defaultValue = null) => new()
    {
        Type = JsonSchemaType.String,
        Enum = values.Select(v => (JsonNode)JsonValue.Create(v)).ToList(),
        Default = defaultValue is null ? null : JsonValue.Create(defaultValue),
    };
}
