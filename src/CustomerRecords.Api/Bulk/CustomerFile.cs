namespace CustomerRecords.Api.Bulk;

/// <summary>The two formats a customer file comes in, for <c>import</c>, <c>export</c> and their HTTP routes.</summary>
public enum CustomerFileFormat
{
    /// <summary>RFC 4180 CSV, UTF-8 (a BOM is accepted on input, never written), one header row.</summary>
    Csv,

    /// <summary>Newline-delimited JSON: one customer object per line, the API's own representation.</summary>
    Ndjson,
}

/// <summary>
/// What a customer file holds, shared by import and export so that an export imports back unchanged.
/// Export writes every column of <see cref="Columns"/> in that order; NDJSON lines are the API's customer JSON (snake_case).
/// Import reads columns by name (letter case and surrounding spaces ignored, any order): <see cref="Name"/> and
/// <see cref="Email"/> are required, <see cref="Phone"/> optional, <see cref="Id"/> and <see cref="CreatedAt"/> kept when
/// given (the original tutorial table's <c>id,name,email,phone,created_at,updated_at</c> imports as it is),
/// <see cref="UpdatedAt"/>, <see cref="Version"/> and <see cref="DeletedAt"/> read and ignored; any other column is an error for the file.
/// Timestamps are UTC ISO 8601 (<c>2026-12-02T05:22:33.123Z</c>) on output; input also takes the MySQL client's
/// <c>2026-12-02 05:22:33</c> (read as UTC).
/// </summary>
public static class CustomerFile
{
    public const string Id = "id";
    public const string Name = "name";
    public const string Email = "email";
    public const string Phone = "phone";
    public const string CreatedAt = "created_at";
    public const string UpdatedAt = "updated_at";
    public const string Version = "version";
    public const string DeletedAt = "deleted_at";

    /// <summary>Export's columns, in order.</summary>
    public static readonly IReadOnlyList<string> Columns = [Id, Name, Email, Phone, CreatedAt, UpdatedAt, Version];

    /// <summary>Every column import understands.</summary>
    public static readonly IReadOnlySet<string> KnownColumns = new HashSet<string>([.. Columns, DeletedAt], StringComparer.OrdinalIgnoreCase);

    /// <summary>Media type of <see cref="CustomerFileFormat.Csv"/>.</summary>
    public const string CsvMediaType = "text/csv";

    /// <summary>Media type of <see cref="CustomerFileFormat.Ndjson"/>.</summary>
    public const string NdjsonMediaType = "application/x-ndjson";

    /// <summary>The media type of <paramref name="format"/>.</summary>
    public static string MediaType(CustomerFileFormat format) => format == CustomerFileFormat.Csv ? CsvMediaType : NdjsonMediaType;

    /// <summary>The format of a media type (<see cref="CsvMediaType"/>, <see cref="NdjsonMediaType"/>; letter case ignored), or null.</summary>
    public static CustomerFileFormat? FromMediaType(string? mediaType) => mediaType?.ToLowerInvariant() switch
    {
        CsvMediaType => CustomerFileFormat.Csv,
        NdjsonMediaType => CustomerFileFormat.Ndjson,
        _ => null,
    };

    /// <summary>The format a file name suggests (<c>.csv</c>, <c>.ndjson</c>/<c>.jsonl</c>), or null.</summary>
    public static CustomerFileFormat? FromFileName(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".csv" => CustomerFileFormat.Csv,
        ".ndjson" or ".jsonl" => CustomerFileFormat.Ndjson,
        _ => null,
    };

    /// <summary>
    /// How export writes a CSV timestamp: UTC ISO 8601 with <c>Z</c> and all six stored fraction digits
    /// (<c>2026-12-02T05:22:33.123456Z</c>: milliseconds and the microseconds the database keeps), so that an import gives
    /// back the same instant. NDJSON lines carry the API's own JSON form of the same instant.
    /// </summary>
    public const string TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'";
}
