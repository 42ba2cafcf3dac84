using System.Text.Json;
using System.Text.Unicode;

namespace CustomerRecords.Api.Customers;

/// <summary>
/// The fields a client sent in a customer body, read strictly: malformed JSON, duplicate keys,
/// unknown fields and server-owned fields are errors. Hand-read rather than deserialized so that
/// "absent" and "null" stay distinct (merge patch) and every error names the field at fault.
/// Bytes that are not UTF-8 and escapes that are not text (a lone surrogate such as <c>\ud800</c>)
/// are bad input like any other: an error on the field when it is known, else on <c>$</c>.
/// </summary>
internal sealed class CustomerBody
{
    private static readonly string[] ServerOwned = ["id", "created_at", "updated_at", "version"];

    private const string NotText = "The field must be UTF-8 text (no invalid bytes or unpaired surrogates).";

    private const string BodyNotUtf8 = "The body must be UTF-8 encoded JSON.";

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
                if (!TryGetString(ref reader, out var property))
                {
                    // A name that is not text names no field; nothing after it can be matched up reliably either.
                    errors.Clear();
                    errors["$"] = ["A property name is not UTF-8 text (invalid bytes or unpaired surrogates)."];
                    return false;
                }

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
            errors["$"] = [Utf8.IsValid(utf8) ? "The body is not valid JSON." : BodyNotUtf8];
            return false;
        }

        // Bad bytes the reader never decoded (in a skipped value, or between tokens) still make the body bad.
        if (errors.Count == 0 && !Utf8.IsValid(utf8))
        {
            errors["$"] = [BodyNotUtf8];
        }

        return errors.Count == 0;
    }

    /// <summary>
    /// The current string token, unescaped; false when it is not text. The reader checks neither the UTF-8 of a
    /// string nor that its escapes pair up; <see cref="Utf8JsonReader.GetString"/> does, and throws when they don't.
    /// </summary>
    private static bool TryGetString(ref Utf8JsonReader reader, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value)
    {
        try
        {
            value = reader.GetString()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            value = null;
            return false;
        }
    }

    private static Field ReadString(ref Utf8JsonReader reader, string property, Dictionary<string, string[]> errors)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                if (TryGetString(ref reader, out var value))
                {
                    return new Field(true, value);
                }

                errors[property] = [NotText];
                return new Field(true, null);
            case JsonTokenType.Null:
                return new Field(true, null);
            default:
                reader.Skip();
                errors[property] = ["The field must be a string."];
                return new Field(true, null);
        }
    }
}
