using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace CustomerRecords.Api.Auth;

/// <summary>
/// API key hashing. Keys made by <c>generate-key</c> are 256 random bits, so a plain SHA-256 cannot be
/// brute-forced and a slow KDF (PBKDF2, Argon2) would only add latency to every request; keys a person
/// chose are not supported for that reason. Hashes are compared in constant time.
/// </summary>
public static class ApiKeyHash
{
    /// <summary>Prefix of the stored hash format <c>sha256:&lt;base64url of 32 bytes&gt;</c>.</summary>
    public const string Prefix = "sha256:";

    /// <summary>Prefix of generated keys; makes a leaked key recognisable to secret scanners and to the log guard.</summary>
    public const string KeyPrefix = "crk_";

    /// <summary>Longest key accepted in the header; longer values are rejected without hashing.</summary>
    internal const int MaxKeyLength = 256;

    /// <summary>Hash a key into the form stored in <c>Auth:ApiKeys:N:Hash</c>.</summary>
    public static string Hash(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), digest);
        return Prefix + Base64Url.EncodeToString(digest);
    }

    /// <summary>Create a new random key (<c>crk_</c> + 256 random bits, base64url).</summary>
    public static string GenerateKey() => KeyPrefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>Parse a stored hash into its 32 digest bytes.</summary>
    public static bool TryParse(string? hash, out byte[] digest)
    {
        digest = [];
        if (hash is null || !hash.StartsWith(Prefix, StringComparison.Ordinal) || hash.Length != Prefix.Length + 43)
        {
            return false;
        }

        var encoded = hash.AsSpan(Prefix.Length);
        var buffer = new byte[SHA256.HashSizeInBytes];
        if (!Base64Url.IsValid(encoded) || Base64Url.DecodeFromChars(encoded, buffer) != buffer.Length)
        {
            return false;
        }

        digest = buffer;
        return true;
    }

    /// <summary>SHA-256 of a presented key, for constant-time comparison with stored digests.</summary>
    internal static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
