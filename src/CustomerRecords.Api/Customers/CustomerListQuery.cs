using System.Buffers.Binary;
using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace CustomerRecords.Api.Customers;

/// <summary>The orders a list can be read in; every order breaks ties by id so keyset pages are stable.</summary>
internal enum CustomerSort : byte
{
    IdAscending = 1,
    IdDescending,
    NameAscending,
    NameDescending,
    CreatedAtAscending,
    CreatedAtDescending,
    UpdatedAtAscending,
    UpdatedAtDescending,
    DeletedAtAscending,
    DeletedAtDescending,
}

/// <summary>Which customers a list reads: the live ones (the default) or the soft-deleted ones.</summary>
internal enum CustomerState : byte
{
    Live,
    Deleted,
}

/// <summary>Whether a page carries <c>total</c>, and how it is computed.</summary>
internal enum CustomerCount : byte
{
    None,
    Exact,
    Estimated,
}

/// <summary>Where the previous page ended: the sort key and id of its last row (the key is a name key or a timestamp, by sort).</summary>
internal readonly record struct CustomerCursor(CustomerSort Sort, int Id, string? NameKey, DateTime? At)
{
    /// <summary>
    /// Version 2: pages hold live rows only and the sorts include updated_at and deleted_at. A version-1
    /// cursor (issued before that) is refused with 400, never read with the new meaning.
    /// </summary>
    private const byte FormatVersion = 2;

    private const string NotValid = "The cursor is not valid; pass the 'next' value of a previous page unchanged.";

    public static CustomerCursor After(CustomerSort sort, Customer last) => sort switch
    {
        CustomerSort.NameAscending or CustomerSort.NameDescending => new(sort, last.Id, CustomerRules.NameKey(last.Name), null),
        CustomerSort.CreatedAtAscending or CustomerSort.CreatedAtDescending => new(sort, last.Id, null, last.CreatedAt),
        CustomerSort.UpdatedAtAscending or CustomerSort.UpdatedAtDescending => new(sort, last.Id, null, last.UpdatedAt),
        // Every row of the deleted listing has deleted_at; a live row here would be a bug, refused at decode.
        CustomerSort.DeletedAtAscending or CustomerSort.DeletedAtDescending => new(sort, last.Id, null, last.DeletedAt ?? DateTime.MinValue),
        _ => new(sort, last.Id, null, null),
    };

    /// <summary>The sorts whose key is a timestamp (8 bytes of UTC ticks after the id).</summary>
    public static bool IsTimeSort(CustomerSort sort) => sort is
        CustomerSort.CreatedAtAscending or CustomerSort.CreatedAtDescending or
        CustomerSort.UpdatedAtAscending or CustomerSort.UpdatedAtDescending or
        CustomerSort.DeletedAtAscending or CustomerSort.DeletedAtDescending;

    /// <summary>Opaque to clients: base64url of a small versioned binary record.</summary>
    public string Encode()
    {
        var name = NameKey is null ? [] : Encoding.UTF8.GetBytes(NameKey);
        var buffer = new byte[2 + 4 + (At is null ? 0 : 8) + name.Length];
        buffer[0] = FormatVersion;
        buffer[1] = (byte)Sort;
        BinaryPrimitives.WriteInt32BigEndian(buffer.AsSpan(2), Id);
        if (At is { } at)
        {
            BinaryPrimitives.WriteInt64BigEndian(buffer.AsSpan(6), at.Ticks);
        }

        name.CopyTo(buffer.AsSpan(6));
        return Base64Url.EncodeToString(buffer);
    }

    public static bool TryDecode(string text, CustomerSort expectedSort, out CustomerCursor cursor, out string? error)
    {
        cursor = default;
        error = NotValid;
        if (!TryDecodeToken(text, 2048, out var bytes) || bytes.Length < 6)
        {
            return false;
        }

        if (bytes[0] == 1)
        {
            error = "The cursor was issued by an earlier version of the service; start again from the first page.";
            return false;
        }

        if (bytes[0] != FormatVersion || !Enum.IsDefined((CustomerSort)bytes[1]))
        {
            return false;
        }

        var sort = (CustomerSort)bytes[1];
        if (sort != expectedSort)
        {
            error = "The cursor was issued for a different sort order.";
            return false;
        }

        var id = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(2));
        if (sort is CustomerSort.NameAscending or CustomerSort.NameDescending)
        {
            try
            {
                var name = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, 6, bytes.Length - 6);
                cursor = new CustomerCursor(sort, id, name, null);
            }
            catch (ArgumentException)
            {
                return false;
            }
        }
        else if (IsTimeSort(sort))
        {
            if (bytes.Length != 14)
            {
                return false;
            }

            var ticks = BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(6));
            if (ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks)
            {
                return false;
            }

            cursor = new CustomerCursor(sort, id, null, new DateTime(ticks, DateTimeKind.Utc));
        }
        else
        {
            if (bytes.Length != 6)
            {
                return false;
            }

            cursor = new CustomerCursor(sort, id, null, null);
        }

        error = null;
        return true;
    }

    /// <summary>Base64url text of 1 to <paramref name="maxLength"/> characters as bytes; false for anything else. Shared by the sealed form (<see cref="CursorProtector"/>).</summary>
    internal static bool TryDecodeToken(string text, int maxLength, out byte[] bytes)
    {
        bytes = [];
        if (text.Length == 0 || text.Length > maxLength)
        {
            return false;
        }

        try
        {
            bytes = Base64Url.DecodeFromChars(text);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

/// <summary>A validated list request.</summary>
/// <param name="Limit">Rows per page.</param>
/// <param name="Sort">The order, which also fixes the index the page is read from.</param>
/// <param name="After">Where the previous page ended, or null for the first page.</param>
/// <param name="EmailKey">Only the customer with this email key.</param>
/// <param name="Prefix">Only customers whose name key or email key starts with this.</param>
/// <param name="State">Live customers, or the soft-deleted ones.</param>
/// <param name="UpdatedSince">Only customers changed at or after this instant (UTC, rounded up to the stored microsecond).</param>
/// <param name="Count">Whether the page carries <c>total</c>.</param>
/// <param name="PhonePrefix">Only customers whose phone's digits (<see cref="CustomerRules.PhoneKey"/>) start with these digits.</param>
internal sealed partial record CustomerListQuery(
    int Limit,
    CustomerSort Sort,
    CustomerCursor? After,
    string? EmailKey,
    string? Prefix,
    CustomerState State = CustomerState.Live,
    DateTime? UpdatedSince = null,
    CustomerCount Count = CustomerCount.None,
    string? PhonePrefix = null)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    /// <summary>The <c>sort</c> values of the live listing.</summary>
    public static readonly string[] LiveSorts = ["id", "-id", "name", "-name", "created_at", "-created_at", "updated_at", "-updated_at"];

    /// <summary>The <c>sort</c> values of the deleted listing (<c>state=deleted</c>).</summary>
    public static readonly string[] DeletedSorts = ["-deleted_at", "deleted_at"];

    /// <summary>Every <c>sort</c> value, for the OpenAPI document.</summary>
    public static IEnumerable<string> AllSorts => LiveSorts.Concat(DeletedSorts);

    /// <summary>True when some filter narrows the rows (the cursor is not a filter).</summary>
    public bool Filtered => EmailKey is not null || Prefix is not null || UpdatedSince is not null || PhonePrefix is not null;

    public static bool TryCreate(
        string? limit,
        string? after,
        string? email,
        string? q,
        string? sort,
        out CustomerListQuery query,
        out Dictionary<string, string[]> errors) =>
        TryCreate(limit, after, email, q, sort, state: null, updatedSince: null, count: null, phone: null, out query, out errors);

    public static bool TryCreate(
        string? limit,
        string? after,
        string? email,
        string? q,
        string? sort,
        string? state,
        string? updatedSince,
        string? count,
        string? phone,
        out CustomerListQuery query,
        out Dictionary<string, string[]> errors)
    {
        errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        query = null!;

        var pageSize = DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaxLimit))
        {
            errors["limit"] = [$"The limit must be a whole number from 1 to {MaxLimit}."];
        }

        var listing = OneOf(state, "state", States, CustomerState.Live, errors, "The state must be live or deleted.");

        DateTime? since = null;
        if (updatedSince is not null)
        {
            if (!TryParseTimestamp(updatedSince, out var parsed))
            {
                errors["updated_since"] = ["The updated_since must be an RFC 3339 timestamp with an offset, e.g. 2026-01-02T03:04:05Z."];
            }
            else if (listing == CustomerState.Deleted)
            {
                errors["updated_since"] = ["updated_since lists live customers; it cannot be combined with state=deleted."];
            }
            else
            {
                since = parsed;
            }
        }

        var order = listing == CustomerState.Deleted ? CustomerSort.DeletedAtDescending
            : updatedSince is not null ? CustomerSort.UpdatedAtAscending
            : CustomerSort.IdAscending;
        if (sort is not null && !errors.ContainsKey("state"))
        {
            if (!TryParseSort(sort, out var parsed))
            {
                errors["sort"] = [$"The sort must be one of {string.Join(", ", listing == CustomerState.Deleted ? DeletedSorts : LiveSorts)}."];
            }
            else if (listing == CustomerState.Deleted && parsed is not (CustomerSort.DeletedAtAscending or CustomerSort.DeletedAtDescending))
            {
                errors["sort"] = ["With state=deleted the sort must be -deleted_at (the default) or deleted_at."];
            }
            else if (listing == CustomerState.Live && parsed is (CustomerSort.DeletedAtAscending or CustomerSort.DeletedAtDescending))
            {
                errors["sort"] = ["The deleted_at sorts list deleted customers: add state=deleted."];
            }
            else if (updatedSince is not null && parsed != CustomerSort.UpdatedAtAscending)
            {
                errors["sort"] = ["With updated_since the sort must be updated_at (the default there: oldest change first)."];
            }
            else
            {
                order = parsed;
            }
        }

        CustomerCursor? cursor = null;
        if (after is not null && !errors.ContainsKey("sort") && !errors.ContainsKey("state"))
        {
            if (CustomerCursor.TryDecode(after, order, out var decoded, out var cursorError))
            {
                cursor = decoded;
            }
            else
            {
                errors["after"] = [cursorError!];
            }
        }

        string? emailKey = null;
        if (email is not null)
        {
            var (value, error) = CustomerRules.NormalizeEmail(email);
            if (error is not null)
            {
                errors["email"] = [error];
            }
            else
            {
                emailKey = CustomerRules.EmailKey(value!);
            }
        }

        string? prefix = null;
        if (q is not null)
        {
            prefix = q.Trim().ToLowerInvariant();
            if (prefix.Length is 0 or > CustomerRules.NameMaxLength)
            {
                errors["q"] = [$"The search text must be 1 to {CustomerRules.NameMaxLength} characters."];
            }
        }

        string? phonePrefix = null;
        if (phone is not null)
        {
            // The stored phone's rules: a search text is a phone, or the start of one.
            var (value, error) = CustomerRules.NormalizePhone(phone);
            if (error is not null || value is null)
            {
                errors["phone"] = [error ?? "The phone must contain at least one digit."];
            }
            else
            {
                phonePrefix = CustomerRules.PhoneKey(value);
            }
        }

        var total = OneOf(count, "count", Counts, CustomerCount.None, errors, "The count must be exact or estimated.");

        if (errors.Count > 0)
        {
            return false;
        }

        query = new CustomerListQuery(pageSize, order, cursor, emailKey, prefix, listing, since, total, phonePrefix);
        return true;
    }

    /// <summary>
    /// An RFC 3339 date-time (<c>2026-01-02T03:04:05.123Z</c>, <c>...+02:00</c>; <c>t</c>/<c>z</c> in either case; an offset
    /// is required) as UTC. Fractions finer than the stored microsecond round up, so <c>updated_at &gt;= T</c> means what it says.
    /// </summary>
    internal static bool TryParseTimestamp(string text, out DateTime utc)
    {
        utc = default;
        var match = Rfc3339().Match(text);
        if (!match.Success)
        {
            return false;
        }

        var fraction = match.Groups["fraction"].Value;
        var normalized = string.Concat(text.AsSpan(0, 10), "T", text.AsSpan(11, 8)) + (match.Groups["offset"].Value is "Z" or "z" ? "+00:00" : match.Groups["offset"].Value);
        if (!DateTimeOffset.TryParseExact(normalized, "yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture, DateTimeStyles.None, out var seconds))
        {
            return false;
        }

        // Ticks of the fraction (7 digits); digits beyond the 7th only ever round up.
        var digits = fraction.Length == 0 ? string.Empty : fraction[1..];
        var ticks = digits.Length == 0 ? 0 : long.Parse(digits.Length > 7 ? digits[..7] : digits.PadRight(7, '0'), NumberStyles.None, CultureInfo.InvariantCulture);
        var roundUp = digits.Length > 7 && digits[7..].Any(d => d != '0') ? 1 : 0;
        var totalTicks = seconds.UtcTicks + ticks + roundUp;
        totalTicks = totalTicks % 10 == 0 ? totalTicks : totalTicks + (10 - (totalTicks % 10));
        if (totalTicks > DateTime.MaxValue.Ticks)
        {
            return false;
        }

        utc = new DateTime(totalTicks, DateTimeKind.Utc);
        return true;
    }

    [GeneratedRegex(@"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?<fraction>\.[0-9]{1,9})?(?<offset>[Zz]|[+-][0-9]{2}:[0-9]{2})\z", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex Rfc3339();

    private static readonly Dictionary<string, CustomerState> States = new(StringComparer.Ordinal)
    {
        ["live"] = CustomerState.Live,
        ["deleted"] = CustomerState.Deleted,
    };

    private static readonly Dictionary<string, CustomerCount> Counts = new(StringComparer.Ordinal)
    {
        ["exact"] = CustomerCount.Exact,
        ["estimated"] = CustomerCount.Estimated,
    };

    private static readonly Dictionary<string, CustomerSort> Sorts = new(StringComparer.Ordinal)
    {
        ["id"] = CustomerSort.IdAscending,
        ["-id"] = CustomerSort.IdDescending,
        ["name"] = CustomerSort.NameAscending,
        ["-name"] = CustomerSort.NameDescending,
        ["created_at"] = CustomerSort.CreatedAtAscending,
        ["-created_at"] = CustomerSort.CreatedAtDescending,
        ["updated_at"] = CustomerSort.UpdatedAtAscending,
        ["-updated_at"] = CustomerSort.UpdatedAtDescending,
        ["deleted_at"] = CustomerSort.DeletedAtAscending,
        ["-deleted_at"] = CustomerSort.DeletedAtDescending,
    };

    /// <summary>A query parameter that names one of a closed set: absent → <paramref name="absent"/>, unknown → <paramref name="error"/> under <paramref name="key"/>.</summary>
    private static T OneOf<T>(string? text, string key, Dictionary<string, T> names, T absent, Dictionary<string, string[]> errors, string error)
    {
        if (text is null)
        {
            return absent;
        }

        if (names.TryGetValue(text, out var value))
        {
            return value;
        }

        errors[key] = [error];
        return absent;
    }

    private static bool TryParseSort(string text, out CustomerSort sort) => Sorts.TryGetValue(text, out sort);
}
