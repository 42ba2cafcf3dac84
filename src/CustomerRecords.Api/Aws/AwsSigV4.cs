using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace CustomerRecords.Api.Aws;

/// <summary>AWS credentials. <see cref="ToString"/> never shows the secret parts.</summary>
/// <param name="AccessKeyId">Access key id (not secret on its own).</param>
/// <param name="SecretAccessKey">Secret access key.</param>
/// <param name="SessionToken">Session token of temporary credentials, if any.</param>
/// <param name="Expiration">When temporary credentials expire; null for long-lived ones.</param>
public sealed record AwsCredentials(string AccessKeyId, string SecretAccessKey, string? SessionToken = null, DateTimeOffset? Expiration = null)
{
    /// <inheritdoc />
    public override string ToString() => $"AwsCredentials {{ AccessKeyId = {AccessKeyId}, Expiration = {Expiration:o} }}";
}

/// <summary>
/// AWS Signature Version 4, the parts this service needs: a header signature and a presigned query string.
/// Checked against AWS's published test vectors (sig-v4 test suite "get-vanilla", S3's presigned-URL example)
/// and against the RDS tokens of the AWS SDK. Paths are canonicalized S3-style (each segment encoded once);
/// callers here only sign "/".
/// </summary>
public static class AwsSigV4
{
    /// <summary>The signing algorithm identifier.</summary>
    public const string Algorithm = "AWS4-HMAC-SHA256";

    /// <summary>Hex SHA-256 of an empty payload.</summary>
    public const string EmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    /// <summary>Payload hash value for requests whose body is not signed (S3 presigned URLs).</summary>
    public const string UnsignedPayload = "UNSIGNED-PAYLOAD";

    /// <summary>
    /// Presign a request: returns the canonical query string including <c>X-Amz-Signature</c>, to append after
    /// <c>?</c>. <paramref name="host"/> is signed as the only header (include <c>:port</c> when not the default).
    /// </summary>
    public static string PresignQuery(
        string method, string host, string path, IEnumerable<KeyValuePair<string, string>> query,
        AwsCredentials credentials, string region, string service, DateTimeOffset time, TimeSpan expires,
        string payloadHash = EmptyPayloadHash)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        var amzDate = time.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var scope = $"{amzDate[..8]}/{region}/{service}/aws4_request";
        var parameters = new List<KeyValuePair<string, string>>(query)
        {
            new("X-Amz-Algorithm", Algorithm),
            new("X-Amz-Credential", $"{credentials.AccessKeyId}/{scope}"),
            new("X-Amz-Date", amzDate),
            new("X-Amz-Expires", ((long)expires.TotalSeconds).ToString(CultureInfo.InvariantCulture)),
            new("X-Amz-SignedHeaders", "host"),
        };
        if (!string.IsNullOrEmpty(credentials.SessionToken))
        {
            parameters.Add(new("X-Amz-Security-Token", credentials.SessionToken));
        }

        var canonicalQuery = CanonicalQuery(parameters);
        var canonicalRequest = string.Join('\n', method, CanonicalPath(path), canonicalQuery, $"host:{host.Trim()}\n", "host", payloadHash);
        var signature = Sign(credentials.SecretAccessKey, amzDate, region, service, canonicalRequest);
        return $"{canonicalQuery}&X-Amz-Signature={signature}";
    }

    /// <summary>
    /// Sign a request with headers; returns the <c>Authorization</c> header value. <paramref name="headers"/> must
    /// include <c>host</c> and <c>x-amz-date</c> (the signing time, <c>yyyyMMddTHHmmssZ</c>); all of them are signed.
    /// </summary>
    public static string SignHeaders(
        string method, string path, IEnumerable<KeyValuePair<string, string>> query, IReadOnlyDictionary<string, string> headers,
        string payloadHash, AwsCredentials credentials, string region, string service)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(credentials);
        var canonical = headers
            .Select(h => (Name: h.Key.Trim().ToLowerInvariant(), Value: string.Join(' ', h.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))))
            .OrderBy(h => h.Name, StringComparer.Ordinal)
            .ToList();
        var amzDate = canonical.Single(h => h.Name == "x-amz-date").Value;
        var signedHeaders = string.Join(';', canonical.Select(h => h.Name));
        var canonicalHeaders = string.Concat(canonical.Select(h => $"{h.Name}:{h.Value}\n"));
        var canonicalRequest = string.Join('\n', method, CanonicalPath(path), CanonicalQuery(query), canonicalHeaders, signedHeaders, payloadHash);
        var signature = Sign(credentials.SecretAccessKey, amzDate, region, service, canonicalRequest);
        return $"{Algorithm} Credential={credentials.AccessKeyId}/{amzDate[..8]}/{region}/{service}/aws4_request, SignedHeaders={signedHeaders}, Signature={signature}";
    }

    private static string Sign(string secretAccessKey, string amzDate, string region, string service, string canonicalRequest)
    {
        var scope = $"{amzDate[..8]}/{region}/{service}/aws4_request";
        var stringToSign = string.Join('\n', Algorithm, amzDate, scope, Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest))));
        var key = Hmac(Encoding.UTF8.GetBytes("AWS4" + secretAccessKey), amzDate[..8]);
        key = Hmac(key, region);
        key = Hmac(key, service);
        key = Hmac(key, "aws4_request");
        return Hex(Hmac(key, stringToSign));
    }

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    internal static string CanonicalQuery(IEnumerable<KeyValuePair<string, string>> query) =>
        string.Join('&', query
            .Select(p => (Key: UriEncode(p.Key), Value: UriEncode(p.Value)))
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .ThenBy(p => p.Value, StringComparer.Ordinal)
            .Select(p => $"{p.Key}={p.Value}"));

    internal static string CanonicalPath(string path) =>
        string.IsNullOrEmpty(path) ? "/" : string.Join('/', path.Split('/').Select(UriEncode));

    /// <summary>RFC 3986 encoding as SigV4 wants it: everything but A–Z a–z 0–9 - _ . ~ as upper-case %XX of UTF-8.</summary>
    internal static string UriEncode(string value)
    {
        var builder = new StringBuilder(value.Length * 2);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~')
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }
}

/// <summary>Builds RDS IAM authentication tokens: a SigV4-presigned <c>connect</c> request for service <c>rds-db</c>, valid 15 minutes.</summary>
public static class RdsAuthToken
{
    /// <summary>How long a token is accepted by RDS for new connections.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(15);

    /// <summary>
    /// The token for <paramref name="user"/> at <paramref name="host"/>:<paramref name="port"/>, signed at <paramref name="time"/>:
    /// <c>{host}:{port}/?Action=connect&amp;DBUser={user}&amp;X-Amz-...&amp;X-Amz-Signature=...</c> (the presigned URL without <c>https://</c>).
    /// </summary>
    public static string Generate(string host, int port, string user, string region, AwsCredentials credentials, DateTimeOffset time)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentException.ThrowIfNullOrWhiteSpace(user);
        ArgumentException.ThrowIfNullOrWhiteSpace(region);
        var endpoint = $"{host}:{port.ToString(CultureInfo.InvariantCulture)}";
        var query = AwsSigV4.PresignQuery("GET", endpoint, "/",
            [new("Action", "connect"), new("DBUser", user)],
            credentials, region, "rds-db", time, Lifetime);
        return $"{endpoint}/?{query}";
    }
}
