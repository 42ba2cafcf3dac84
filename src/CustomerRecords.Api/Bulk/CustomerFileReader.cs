using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using CsvHelper;

namespace CustomerRecords.Api.Bulk;

/// <summary>
/// One row of a customer file as read, before the rules: the raw values of the columns import uses, and the
/// problems the reader itself found (a field that is not UTF-8, a wrong JSON type, a wrong field count...).
/// </summary>
/// <param name="Line">Line of the file where the row starts (1 is the first line; a CSV header is line 1).</param>
/// <param name="Id">The id column or field, as text.</param>
/// <param name="Name">The name as read.</param>
/// <param name="Email">The email as read.</param>
/// <param name="Phone">The phone as read (null: none).</param>
/// <param name="HasPhone">Whether the file gives a phone at all (a column or field); when not, an update keeps the customer's phone.</param>
/// <param name="CreatedAt">The creation time as read.</param>
internal sealed record CustomerFileRow(long Line, string? Id, string? Name, string? Email, string? Phone, bool HasPhone, string? CreatedAt)
{
    /// <summary>Problems found while reading: (field, reason); the field is <c>$</c> for the row as a whole.</summary>
    public List<(string Field, string Reason)>? Errors { get; set; }

    public void Reject(string field, string reason) => (Errors ??= []).Add((field, reason));
}

/// <summary>A problem with the file as a whole (its header, its encoding, an unreadable structure): the import stops at <see cref="Line"/>.</summary>
internal sealed class CustomerFileException(long line, string message) : Exception(message)
{
    public long Line { get; } = line;
}

/// <summary>
/// Streams the rows of a customer file (<see cref="CustomerFile"/>): CSV through CsvHelper (RFC 4180) or NDJSON, UTF-8
/// with or without a BOM. Memory stays flat: one row at a time, fields capped at <see cref="MaxFieldChars"/>.
/// Bytes that are not UTF-8 make the field that holds them rejected (per line), not the file.
/// </summary>
internal static class CustomerFileReader
{
    /// <summary>Longest CSV field or NDJSON line read (characters); a longer CSV record stops the import (a quote left open reads to the end of the file), a longer NDJSON line is rejected.</summary>
    public const int MaxFieldChars = 1024 * 1024;

    /// <summary>What an invalid UTF-8 sequence decodes to: a noncharacter, refused wherever it appears.</summary>
    internal const char Invalid = '\uFFFF';

    internal const string NotUtf8 = "The field is not valid UTF-8 text.";

    /// <summary>UTF-8 that skips a BOM and turns invalid bytes into <see cref="Invalid"/> rather than throwing far from the line.</summary>
    private static readonly Encoding Utf8 = CreateEncoding();

    private static Encoding CreateEncoding()
    {
        var encoding = (Encoding)new UTF8Encoding(encoderShouldEmitUTF8Identifier: true).Clone();
        encoding.DecoderFallback = new DecoderReplacementFallback(Invalid.ToString());
        return encoding;
    }

    public static TextReader OpenText(Stream stream) => new StreamReader(stream, Utf8, detectEncodingFromByteOrderMarks: false, bufferSize: 64 * 1024, leaveOpen: true);

    public static IAsyncEnumerable<CustomerFileRow> ReadAsync(Stream stream, CustomerFileFormat format, CancellationToken ct) =>
        format == CustomerFileFormat.Csv ? ReadCsvAsync(stream, ct) : ReadNdjsonAsync(stream, ct);

    private static async IAsyncEnumerable<CustomerFileRow> ReadCsvAsync(Stream stream, [EnumeratorCancellation] CancellationToken ct)
    {
        using var text = OpenText(stream);
        CsvMalformedRecord? malformed = null;
        var options = new CsvReaderOptions
        {
            Separator = ',',
            HasHeader = false,
            Mode = CsvMode.Rfc4180,
            SkipEmptyLines = true,
            TrackLineNumbers = true,
            MaxRecordSize = MaxFieldChars,
            MalformedData = CsvMalformedDataHandling.Recover,
            OnMalformedRecord = record => malformed = record,
            IncludeValuesInExceptions = false,
        };
        await using var reader = CsvReader.Create(text, options, leaveOpen: true);
        if (!await ReadAsync(reader, 1, ct))
        {
            throw new CustomerFileException(1, "The file is empty: a CSV file starts with a header row (id,name,email,phone,created_at,updated_at,version).");
        }

        var columns = Header(reader, malformed is not null);
        long line = 2;
        while (true)
        {
            malformed = null;
            if (!await ReadAsync(reader, line, ct))
            {
                yield break;
            }

            line = reader.LineNumber;
            string? Field(int index) => index >= 0 && index < reader.FieldCount ? reader.GetString(index) : null;
            var row = new CustomerFileRow(line, Field(columns.Id), Field(columns.Name), Field(columns.Email), Field(columns.Phone), columns.Phone >= 0, Field(columns.CreatedAt));
            if (malformed is { } bad)
            {
                row.Reject("$", bad.Reason switch
                {
                    CsvMalformedReason.UnterminatedQuote => "A quoted field is never closed: the rest of the file was read into it, and nothing after this line was imported.",
                    CsvMalformedReason.TextAfterClosingQuote => "Text after the closing quote of a field (RFC 4180: a quote inside a quoted field is doubled).",
                    _ => "A quote inside an unquoted field (RFC 4180: a field holding quotes must be quoted, its quotes doubled).",
                });
            }
            else if (reader.FieldCount != columns.Count)
            {
                row.Reject("$", string.Create(CultureInfo.InvariantCulture, $"The row has {reader.FieldCount} fields; the header has {columns.Count}."));
            }

            yield return row;
            line++;
        }
    }

    private static async Task<bool> ReadAsync(CsvReader reader, long line, CancellationToken ct)
    {
        try
        {
            return await reader.ReadAsync(ct);
        }
        catch (CsvFormatException)
        {
            throw new CustomerFileException(line, string.Create(CultureInfo.InvariantCulture,
                $"A record from line {line} on is longer than {MaxFieldChars:N0} bytes: a quote left open, or not a customer file."));
        }
    }

    /// <summary>Where each known column is; unknown, repeated or missing required columns are errors for the file.</summary>
    private static CsvColumns Header(CsvReader parser, bool badData)
    {
        var names = Enumerable.Range(0, parser.FieldCount).Select(i => parser.GetString(i).Trim()).ToList();
        if (badData || names.Any(n => n.Contains(Invalid, StringComparison.Ordinal) || n.Contains('\0', StringComparison.Ordinal)))
        {
            throw new CustomerFileException(1, "The header row is not UTF-8 CSV text (is the file UTF-16, or not a CSV file?).");
        }

        var unknown = names.Where(n => !CustomerFile.KnownColumns.Contains(n)).ToList();
        if (unknown.Count > 0)
        {
            throw new CustomerFileException(1, $"Unknown column{(unknown.Count > 1 ? "s" : "")} in the header: {string.Join(", ", unknown.Select(Quote))}. " +
                $"Known columns: {string.Join(",", CustomerFile.Columns)},{CustomerFile.DeletedAt}.");
        }

        var repeated = names.GroupBy(n => n, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (repeated.Count > 0)
        {
            throw new CustomerFileException(1, $"Column named more than once in the header: {string.Join(", ", repeated.Select(Quote))}.");
        }

        int Index(string column) => names.FindIndex(n => n.Equals(column, StringComparison.OrdinalIgnoreCase));
        var missing = new[] { CustomerFile.Name, CustomerFile.Email }.Where(c => Index(c) < 0).ToList();
        if (missing.Count > 0)
        {
            throw new CustomerFileException(1, $"The header has no {string.Join(" and no ", missing)} column: both are required.");
        }

        return new CsvColumns(names.Count, Index(CustomerFile.Id), Index(CustomerFile.Name), Index(CustomerFile.Email), Index(CustomerFile.Phone), Index(CustomerFile.CreatedAt));

        // Header names are column names, not personal data; still capped, so a data row taken for a header stays short.
        static string Quote(string name) => "'" + (name.Length > 40 ? name[..40] + "…" : name) + "'";
    }

    private readonly record struct CsvColumns(int Count, int Id, int Name, int Email, int Phone, int CreatedAt);

    private static async IAsyncEnumerable<CustomerFileRow> ReadNdjsonAsync(Stream stream, [EnumeratorCancellation] CancellationToken ct)
    {
        using var text = OpenText(stream);
        var buffer = new char[64 * 1024];
        var lineText = new StringBuilder();
        var tooLong = false;
        long line = 1;
        while (true)
        {
            var read = await text.ReadAsync(buffer.AsMemory(), ct);
            var start = 0;
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] != '\n')
                {
                    continue;
                }

                Append(buffer.AsSpan(start, i - start));
                if (Row(line) is { } row)
                {
                    yield return row;
                }

                line++;
                start = i + 1;
            }

            if (read == 0)
            {
                if (Row(line) is { } last)
                {
                    yield return last;
                }

                yield break;
            }

            Append(buffer.AsSpan(start, read - start));
        }

        void Append(ReadOnlySpan<char> chars)
        {
            if (tooLong || lineText.Length + chars.Length > MaxFieldChars)
            {
                tooLong = true;
                lineText.Clear();
                return;
            }

            lineText.Append(chars);
        }

        CustomerFileRow? Row(long number)
        {
            var content = lineText.ToString();
            var overlong = tooLong;
            lineText.Clear();
            tooLong = false;
            if (overlong)
            {
                var row = new CustomerFileRow(number, null, null, null, null, false, null);
                row.Reject("$", string.Create(CultureInfo.InvariantCulture, $"The line is longer than {MaxFieldChars:N0} characters."));
                return row;
            }

            return string.IsNullOrWhiteSpace(content) ? null : ParseJsonLine(number, content);
        }
    }

    /// <summary>One NDJSON line: an object of the known fields (<see cref="CustomerFile.KnownColumns"/>), with the API's types.</summary>
    internal static CustomerFileRow ParseJsonLine(long line, string content)
    {
        string? id = null, name = null, email = null, phone = null, createdAt = null;
        var hasPhone = false;
        var errors = new List<(string, string)>();
        if (content.Contains(Invalid, StringComparison.Ordinal))
        {
            errors.Add(("$", "The line is not valid UTF-8 text."));
        }
        else
        {
            try
            {
                using var document = JsonDocument.Parse(content, new JsonDocumentOptions { MaxDepth = 8 });
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    errors.Add(("$", "The line is not a JSON object."));
                }
                else
                {
                    var seen = new HashSet<string>(StringComparer.Ordinal);
                    foreach (var property in document.RootElement.EnumerateObject())
                    {
                        var field = property.Name;
                        var value = property.Value;
                        if (!CustomerFile.KnownColumns.Contains(field) || !field.Equals(field.ToLowerInvariant(), StringComparison.Ordinal))
                        {
                            errors.Add(("$", $"Unknown field '{(field.Length > 40 ? field[..40] + "…" : field)}'."));
                            continue;
                        }

                        if (!seen.Add(field))
                        {
                            errors.Add((field, "The field appears more than once."));
                            continue;
                        }

                        switch (field)
                        {
                            case CustomerFile.Id or CustomerFile.Version:
                                if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number))
                                {
                                    errors.Add((field, "The field must be an integer."));
                                }
                                else if (field == CustomerFile.Id)
                                {
                                    id = number.ToString(CultureInfo.InvariantCulture);
                                }

                                break;
                            case CustomerFile.Phone or CustomerFile.DeletedAt or CustomerFile.CreatedAt or CustomerFile.UpdatedAt:
                                if (value.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
                                {
                                    errors.Add((field, "The field must be a string or null."));
                                }
                                else if (field == CustomerFile.Phone)
                                {
                                    hasPhone = true;
                                    phone = value.GetString();
                                }
                                else if (field == CustomerFile.CreatedAt)
                                {
                                    createdAt = value.GetString();
                                }

                                break;
                            default:
                                if (value.ValueKind != JsonValueKind.String)
                                {
                                    errors.Add((field, "The field must be a string."));
                                }
                                else if (field == CustomerFile.Name)
                                {
                                    name = value.GetString();
                                }
                                else
                                {
                                    email = value.GetString();
                                }

                                break;
                        }
                    }
                }
            }
            catch (JsonException)
            {
                errors.Add(("$", "The line is not valid JSON."));
            }
        }

        var row = new CustomerFileRow(line, id, name, email, phone, hasPhone, createdAt);
        foreach (var (field, reason) in errors)
        {
            row.Reject(field, reason);
        }

        return row;
    }
}
