using System.Buffers.Binary;
using System.Buffers.Text;
using System.Globalization;
using System.Text;

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
}

/// <summary>Where the previous page ended: the sort key and id of its last row.</summary>
internal readonly record struct CustomerCursor(CustomerSort Sort, int Id, string? NameKey, DateTime? CreatedAt)
{
    private const byte FormatVersion = 1;

    public static CustomerCursor After(CustomerSort sort, Customer last) => sort switch
    {
        CustomerSort.NameAscending or CustomerSort.NameDescending => new(sort, last.Id, CustomerRules.NameKey(last.Name), null),
        CustomerSort.CreatedAtAscending or CustomerSort.CreatedAtDescending => new(sort, last.Id, null, last.CreatedAt),
        _ => new(sort, last.Id, null, null),
    };

    /// <summary>Opaque to clients: base64url of a small versioned binary record.</summary>
    public string Encode()
    {
        var name = NameKey is null ? [] : Encoding.UTF8.GetBytes(NameKey);
        var buffer = new byte[2 + 4 + (CreatedAt is null ? 0 : 8) + name.Length];
        buffer[0] = FormatVersion;
        buffer[1] = (byte)Sort;
        BinaryPrimitives.WriteInt32BigEndian(buffer.AsSpan(2), Id);
        if (CreatedAt is { } created)
        {
            BinaryPrimitives.WriteInt64BigEndian(buffer.AsSpan(6), created.Ticks);
        }

        name.CopyTo(buffer.AsSpan(6));
        return Base64Url.EncodeToString(buffer);
    }

    public static bool TryDecode(string text, CustomerSort expectedSort, out CustomerCursor cursor, out string? error)
    {
        cursor = default;
        error = "The cursor is not valid; pass the 'next' value of a previous page unchanged.";
        if (!TryDecodeToken(text, 2048, out var bytes))
        {
            return false;
        }

        if (bytes.Length < 6 || bytes[0] != FormatVersion || !Enum.IsDefined((CustomerSort)bytes[1]))
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
        switch (sort)
        {
            case CustomerSort.NameAscending or CustomerSort.NameDescending:
                try
                {
                    var name = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, 6, bytes.Length - 6);
                    cursor = new CustomerCursor(sort, id, name, null);
                }
                catch (ArgumentException)
                {
                    return false;
                }

                break;
            case CustomerSort.CreatedAtAscending or CustomerSort.CreatedAtDescending:
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
                break;
            default:
                if (bytes.Length != 6)
                {
                    return false;
                }

                cursor = new CustomerCursor(sort, id, null, null);
                break;
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
internal sealed record CustomerListQuery(int Limit, CustomerSort Sort, CustomerCursor? After, string? EmailKey, string? Prefix)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    public static bool TryCreate(
        string? limit,
        string? after,
        string? email,
        string? q,
        string? sort,
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

        CustomerSort order = CustomerSort.IdAscending;
        if (sort is not null && !TryParseSort(sort, out order))
        {
            errors["sort"] = ["The sort must be one of id, -id, name, -name, created_at, -created_at."];
        }

        CustomerCursor? cursor = null;
        if (after is not null && !errors.ContainsKey("sort"))
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

        if (errors.Count > 0)
        {
            return false;
        }

        query = new CustomerListQuery(pageSize, order, cursor, emailKey, prefix);
        return true;
    }

    private static bool TryParseSort(string text, out CustomerSort sort)
    {
        sort = text switch
        {
            "id" => CustomerSort.IdAscending,
            "-id" => CustomerSort.IdDescending,
            "name" => CustomerSort.NameAscending,
            "-name" => CustomerSort.NameDescending,
            "created_at" => CustomerSort.CreatedAtAscending,
            "-created_at" => CustomerSort.CreatedAtDescending,
            _ => 0,
        };
        return sort != 0;
    }
}
