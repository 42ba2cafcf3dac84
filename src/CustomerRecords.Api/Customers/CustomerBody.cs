using System.Text.Json;

namespace CustomerRecords.Api.Customers;

/// <summary>
/// The fields a client sent in a customer body, read strictly: malformed JSON, duplicate keys,
/// unknown fields and server-owned fields are errors. Hand-read rather than deserialized so that
/// "absent" and "null" stay distinct (merge patch) and every error names the field at fault.
/// </summary>
internal sealed class CustomerBody
{
    private static readonly string[] ServerOwned = ["id", "created_at", "updated_at", "version"];

    public Field Name { get; private set; }
    public Field Email { get; private set; }
    public Field Phone { get; private set; }

    /// <summary>A field's presence and value; <c>Value</c> is null when the client sent JSON null.</summary>
    public readonly record struct Field(bool Present, string? Value);

    /// <summary>Parses <paramref name="utf8"/>; unknown fields are errors unless <paramref name="ignoreUnknown"/>.</summary>
    public static bool TryParse(
        ReadOnlySpan<byte> utf8,
        bool ignoreUnknown,
        out CustomerBody body,
        out Dictionary<string, string[]> errors)
    {
        body = new CustomerBody();
        errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 16 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                errors["$"] = ["The body must be a JSON object."];
                return false;
            }

            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                var property = reader.GetString()!;
                reader.Read();
                if (!seen.Add(property))
                {
                    errors[property] = ["The field appears more than once."];
                    reader.Skip();
                    continue;
                }

                switch (property)
                {
                    case "name":
                        body.Name = ReadString(ref reader, property, errors);
                        break;
                    case "email":
                        body.Email = ReadString(ref reader, property, errors);
                        break;
                    case "phone":
                        body.Phone = ReadString(ref reader, property, errors);
                        break;
                    default:
                        reader.Skip();
                        if (Array.IndexOf(ServerOwned, property) >= 0)
                        {
                            errors[property] = ["The field is set by the server and cannot be written."];
                        }
                        else if (!ignoreUnknown)
                        {
                            errors[property] = ["Unknown field."];
                        }

                        break;
                }
            }

            // Anything after the closing brace is not one JSON document.
            if (reader.Read())
            {
                errors["$"] = ["The body must contain exactly one JSON object."];
            }
        }
        catch (JsonException)
        {
            errors.Clear();
            errors["$"] = ["The body is not valid JSON."];
        }

        return errors.Count == 0;
    }

    private static Field ReadString(ref Utf8JsonReader reader, string property, Dictionary<string, string[]> errors)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                return new Field(true, reader.GetString());
            case JsonTokenType.Null:
                return new Field(true, null);
            default:
                reader.Skip();
                errors[property] = ["The field must be a string."];
                return new Field(true, null);
        }
    }
}
