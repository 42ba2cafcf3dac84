using System.Security.Cryptography;
using System.Text;

namespace CustomerRecords.Api.Idempotency;

/// <summary>What the endpoint hands the service for a request sent with an <c>Idempotency-Key</c>.</summary>
/// <param name="Key">The stored form of the key (a hash of route, caller and key).</param>
/// <param name="RequestHash">What "the same request" means: a hash of the route and the validated fields.</param>
internal readonly record struct IdempotentRequest(string Key, string RequestHash);

/// <summary>The <c>Idempotency-Key</c> request header: parsing, the stored key, the request hash.</summary>
internal static class IdempotencyKeys
{
    public const string Header = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    public const int MaxLength = 255;

    /// <summary>
    /// Reads the header of <paramref name="http"/> for <paramref name="route"/>. Without a header the request is
    /// null; false (with <paramref name="error"/>) when the header is malformed. <paramref name="fields"/> are the
    /// request's validated values, so that the same fields in other JSON formatting are the same request.
    /// </summary>
    public static bool TryRead(HttpContext http, string route, ReadOnlySpan<string?> fields, out IdempotentRequest? request, out string? error)
    {
        request = null;
        error = null;
        var values = http.Request.Headers[Header];
        if (values.Count == 0)
        {
            return true;
        }

        var key = values.Count == 1 ? values[0] : null;
        if (!IsValidKey(key))
        {
            error = $"The {Header} header must be one value of 1 to {MaxLength} visible ASCII characters.";
            return false;
        }

        var caller = http.User.Identity is { IsAuthenticated: true, Name: { } name } ? name : "-";
        request = new IdempotentRequest(StoredKey(route, caller, key!), RequestHash(route, fields));
        return true;
    }

    /// <summary>1 to <see cref="MaxLength"/> visible ASCII characters.</summary>
    public static bool IsValidKey(string? key) =>
        !string.IsNullOrEmpty(key) && key.Length <= MaxLength && !key.Any(c => c is < '!' or > '~');

    /// <summary>A hash of route, caller and key, so one client's keys never meet another's, whatever their length.</summary>
    public static string StoredKey(string route, string caller, string key) => Hash($"{route}\n{caller}\n{key}");

    /// <summary>A hash of the route and the fields; a null field is distinct from every string.</summary>
    public static string RequestHash(string route, ReadOnlySpan<string?> fields)
    {
        var text = new StringBuilder(route);
        foreach (var field in fields)
        {
            text.Append('\n').Append(field ?? "\0");
        }

        return Hash(text.ToString());
    }

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
