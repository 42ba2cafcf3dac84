using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Api.Customers;

/// <summary>
/// Makes list cursors opaque for real: the cursor (which holds the sort key of the last row — a name
/// prefix is personal data, and cursors end up in URLs and proxy logs) is encrypted and authenticated
/// with AES-256-GCM under a key derived from <c>Customers:CursorKey</c>. A tampered, truncated or foreign
/// cursor fails authentication and is refused like any malformed one.
/// </summary>
internal sealed partial class CursorProtector
{
    private const byte FormatVersion = 2;
    private const int NonceSize = 12;
    private const int TagSize = 16;

    /// <summary>Longest token accepted: a cursor of a 255-character name in 4-byte characters, sealed, with room.</summary>
    public const int MaxLength = 4096;

    private static readonly byte[] Purpose = "customer-records list cursor v2"u8.ToArray();

    private readonly byte[] _key;

    public CursorProtector(IOptions<CustomersOptions> options, ILogger<CursorProtector> logger)
    {
        if (options.Value.CursorKey is { Length: > 0 } secret)
        {
            _key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret), 32, salt: [], info: Purpose);
        }
        else
        {
            _key = RandomNumberGenerator.GetBytes(32);
            LogEphemeralKey(logger);
        }
    }

    /// <summary>The token a client gets for <paramref name="cursor"/>.</summary>
    public string Seal(string cursor)
    {
        var plain = Encoding.ASCII.GetBytes(cursor);
        var token = new byte[1 + NonceSize + plain.Length + TagSize];
        token[0] = FormatVersion;
        var nonce = token.AsSpan(1, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plain, token.AsSpan(1 + NonceSize, plain.Length), token.AsSpan(1 + NonceSize + plain.Length), [FormatVersion]);
        return Base64Url.EncodeToString(token);
    }

    /// <summary>The cursor inside <paramref name="token"/>, or false when it was not issued with this key, or altered.</summary>
    public bool TryOpen(string token, out string cursor)
    {
        cursor = string.Empty;
        if (!CustomerCursor.TryDecodeToken(token, MaxLength, out var bytes))
        {
            return false;
        }

        if (bytes.Length < 1 + NonceSize + TagSize || bytes[0] != FormatVersion)
        {
            return false;
        }

        var length = bytes.Length - 1 - NonceSize - TagSize;
        var plain = new byte[length];
        try
        {
            using var aes = new AesGcm(_key, TagSize);
            aes.Decrypt(bytes.AsSpan(1, NonceSize), bytes.AsSpan(1 + NonceSize, length), bytes.AsSpan(1 + NonceSize + length), plain, [FormatVersion]);
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }

        cursor = Encoding.ASCII.GetString(plain);
        return true;
    }

    [LoggerMessage(EventId = 1300, Level = LogLevel.Warning,
        Message = "Customers:CursorKey is not set: list cursors are valid only on this instance until it restarts. Set the same secret on every instance.")]
    private static partial void LogEphemeralKey(ILogger logger);
}
