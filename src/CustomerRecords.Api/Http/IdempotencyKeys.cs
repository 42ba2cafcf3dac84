using System.Security.Cryptography;
using System.Text;
using CustomerRecords.Api.Customers;

namespace CustomerRecords.Api.Http;

/// <summary>The <c>Idempotency-Key</c> request header, as creates use it.</summary>
internal static class IdempotencyKeys
{
    public const string Header = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    public const int MaxLength = 255;

    /// <summary>
    /// The stored form of the key: a hash of route, caller and key, so one client's keys never meet
    /// another's, whatever their length. Null without a header; false when the header is malformed.
    /// </summary>
    public static bool TryRead(HttpContext http, string route, out string? storedKey, out string? error)
    {
        storedKey = null;
        error = null;
        var values = http.Request.Headers[Header];
        if (values.Count == 0)
        {
            return true;
        }

        var key = values.Count == 1 ? values[0] : null;
        if (string.IsNullOrEmpty(key) || key.Length > MaxLength || key.Any(c => c is < '!' or > '~'))
        {
            error = $"The {Header} header must be one value of 1 to {MaxLength} visible ASCII characters.";
            return false;
        }

        var caller = http.User.Identity is { IsAuthenticated: true, Name: { } name } ? name : "-";
        storedKey = Hash($"{route}\n{caller}\n{key}");
        return true;
    }

    /// <summary>What "the same body" means: the same validated fields, whatever the JSON formatting.</summary>
    public static string RequestHash(string route, CustomerChange change) =>
        Hash($"{route}\n{change.Name}\n{change.Email}\n{change.Phone ?? "\0"}");

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
