using System.Buffers;
using System.Globalization;
using System.Text;

namespace CustomerRecords.Api.Caching;

/// <summary>A reply memcached should never give (or a value this client refuses): the connection is out of step and must be discarded.</summary>
internal sealed class MemcachedProtocolException(string message) : Exception(message);

/// <summary>memcached answered <c>ERROR</c>, <c>CLIENT_ERROR</c> or <c>SERVER_ERROR</c> (e.g. out of memory).</summary>
internal sealed class MemcachedServerException(string message) : Exception(message);

/// <summary>An item read by <c>gets</c>: its value, client flags and cas token.</summary>
internal sealed record MemcachedItem(byte[] Value, uint Flags, ulong Cas);

/// <summary>What memcached answered to a storage command.</summary>
internal enum MemcachedStoreResult
{
    /// <summary><c>STORED</c>.</summary>
    Stored,

    /// <summary><c>NOT_STORED</c>: <c>add</c> found the key already there.</summary>
    NotStored,

    /// <summary><c>EXISTS</c>: <c>cas</c> found the item changed since the <c>gets</c>.</summary>
    Exists,

    /// <summary><c>NOT_FOUND</c>: <c>cas</c> found no item (expired, evicted or deleted since the <c>gets</c>).</summary>
    NotFound,
}

/// <summary>
/// One connection speaking memcached's text protocol (<c>gets</c>, <c>set</c>/<c>add</c>/<c>cas</c>, <c>delete</c>,
/// <c>version</c>, <c>stats</c>, <c>flush_all</c>) over any <see cref="Stream"/>. Not thread-safe: one command at a
/// time (the pool hands a connection to one caller). Any exception leaves the stream in an unknown state: the
/// caller must discard the connection, never reuse it.
/// </summary>
internal sealed class MemcachedConnection(Stream stream) : IAsyncDisposable
{
    /// <summary>memcached's default item limit is 1 MiB including its item header and the key; this leaves room for both.</summary>
    public const int MaxValueBytes = (1024 * 1024) - 512;

    /// <summary>memcached's key limit.</summary>
    public const int MaxKeyBytes = 250;

    /// <summary>Beyond this many seconds memcached reads an expiry as an absolute unix time.</summary>
    public const int MaxRelativeExpirySeconds = 60 * 60 * 24 * 30;

    /// <summary>The longest reply line accepted (a <c>VALUE</c> header, a <c>stats</c> line, an error text).</summary>
    private const int MaxLineBytes = 2048;

    private readonly byte[] _buffer = new byte[16 * 1024];
    private int _start;
    private int _end;

    /// <summary>The value, flags and cas token of <paramref name="key"/>, or null when it is not there.</summary>
    public async Task<MemcachedItem?> GetsAsync(string key, CancellationToken ct)
    {
        CheckKey(key);
        await SendAsync(Line($"gets {key}"), null, ct);
        var line = await ReadLineAsync(ct);
        if (line == "END")
        {
            return null;
        }

        // VALUE <key> <flags> <bytes> <cas unique>
        var parts = line.Split(' ');
        if (parts.Length != 5 || parts[0] != "VALUE")
        {
            throw Unexpected("gets", line);
        }

        if (!string.Equals(parts[1], key, StringComparison.Ordinal))
        {
            throw new MemcachedProtocolException("memcached answered gets with another key.");
        }

        if (!uint.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var flags)
            || !int.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var length)
            || !ulong.TryParse(parts[4], NumberStyles.None, CultureInfo.InvariantCulture, out var cas))
        {
            throw Unexpected("gets", line);
        }

        if (length > 1024 * 1024)
        {
            throw new MemcachedProtocolException(string.Create(CultureInfo.InvariantCulture, $"memcached announced a {length}-byte value; more than any item can hold."));
        }

        var value = new byte[length];
        await ReadExactlyAsync(value, ct);
        await ExpectCrLfAsync(ct);
        var end = await ReadLineAsync(ct);
        if (end != "END")
        {
            throw Unexpected("gets", end);
        }

        return new MemcachedItem(value, flags, cas);
    }

    /// <summary><c>set</c>: stores unconditionally.</summary>
    public Task<MemcachedStoreResult> SetAsync(string key, uint flags, int expiry, ReadOnlyMemory<byte> value, CancellationToken ct) =>
        StoreAsync("set", key, flags, expiry, value, null, ct);

    /// <summary><c>add</c>: stores only when the key is not there.</summary>
    public Task<MemcachedStoreResult> AddAsync(string key, uint flags, int expiry, ReadOnlyMemory<byte> value, CancellationToken ct) =>
        StoreAsync("add", key, flags, expiry, value, null, ct);

    /// <summary><c>cas</c>: stores only when the item is still the one <c>gets</c> returned with <paramref name="cas"/>.</summary>
    public Task<MemcachedStoreResult> CasAsync(string key, uint flags, int expiry, ReadOnlyMemory<byte> value, ulong cas, CancellationToken ct) =>
        StoreAsync("cas", key, flags, expiry, value, cas, ct);

    /// <summary><c>delete</c>; true when there was an item.</summary>
    public async Task<bool> DeleteAsync(string key, CancellationToken ct)
    {
        CheckKey(key);
        await SendAsync(Line($"delete {key}"), null, ct);
        var line = await ReadLineAsync(ct);
        return line switch
        {
            "DELETED" => true,
            "NOT_FOUND" => false,
            _ => throw Unexpected("delete", line),
        };
    }

    /// <summary><c>version</c>: the server's version, a cheap round trip.</summary>
    public async Task<string> VersionAsync(CancellationToken ct)
    {
        await SendAsync("version\r\n"u8.ToArray(), null, ct);
        var line = await ReadLineAsync(ct);
        return line.StartsWith("VERSION ", StringComparison.Ordinal) ? line["VERSION ".Length..] : throw Unexpected("version", line);
    }

    /// <summary><c>stats</c>: the general statistics (<c>pid</c>, <c>uptime</c>, <c>time</c>, ...).</summary>
    public async Task<IReadOnlyDictionary<string, string>> StatsAsync(CancellationToken ct)
    {
        await SendAsync("stats\r\n"u8.ToArray(), null, ct);
        var stats = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var lines = 0; lines < 1000; lines++)
        {
            var line = await ReadLineAsync(ct);
            if (line == "END")
            {
                return stats;
            }

            // STAT <name> <value>
            var parts = line.Split(' ', 3);
            if (parts.Length != 3 || parts[0] != "STAT")
            {
                throw Unexpected("stats", line);
            }

            stats[parts[1]] = parts[2];
        }

        throw new MemcachedProtocolException("memcached's stats did not end.");
    }

    /// <summary><c>flush_all</c>: every item on this server is invalidated.</summary>
    public async Task FlushAllAsync(CancellationToken ct)
    {
        await SendAsync("flush_all\r\n"u8.ToArray(), null, ct);
        var line = await ReadLineAsync(ct);
        if (line != "OK")
        {
            throw Unexpected("flush_all", line);
        }
    }

    /// <summary>
    /// memcached's expiry of an entry that should live <paramref name="timeToLive"/>: 0 (never) for none; whole
    /// seconds, rounded up, up to 30 days; beyond that an absolute unix time, which memcached requires there.
    /// </summary>
    public static int Expiry(TimeSpan? timeToLive, DateTimeOffset now)
    {
        if (timeToLive is not { } ttl)
        {
            return 0;
        }

        var seconds = Math.Max(1, (long)Math.Ceiling(ttl.TotalSeconds));
        if (seconds <= MaxRelativeExpirySeconds)
        {
            return (int)seconds;
        }

        return (int)Math.Min(now.ToUnixTimeSeconds() + seconds, int.MaxValue);
    }

    /// <summary>Whether memcached accepts <paramref name="key"/> as it is: 1-250 bytes of printable ASCII, no spaces.</summary>
    public static bool IsValidKey(string key)
    {
        if (key.Length is 0 or > MaxKeyBytes)
        {
            return false;
        }

        foreach (var c in key)
        {
            if (c is <= ' ' or > '~')
            {
                return false;
            }
        }

        return true;
    }

    public ValueTask DisposeAsync() => stream.DisposeAsync();

    private async Task<MemcachedStoreResult> StoreAsync(string command, string key, uint flags, int expiry, ReadOnlyMemory<byte> value, ulong? cas, CancellationToken ct)
    {
        CheckKey(key);
        if (value.Length > MaxValueBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value.Length, string.Create(CultureInfo.InvariantCulture, $"memcached values are limited to {MaxValueBytes} bytes."));
        }

        // <command> <key> <flags> <exptime> <bytes> [<cas unique>]\r\n<data>\r\n
        var header = cas is { } token
            ? Line($"{command} {key} {flags} {expiry} {value.Length} {token}")
            : Line($"{command} {key} {flags} {expiry} {value.Length}");
        await SendAsync(header, value, ct);
        var line = await ReadLineAsync(ct);
        return line switch
        {
            "STORED" => MemcachedStoreResult.Stored,
            "NOT_STORED" => MemcachedStoreResult.NotStored,
            "EXISTS" when cas is not null => MemcachedStoreResult.Exists,
            "NOT_FOUND" when cas is not null => MemcachedStoreResult.NotFound,
            _ => throw Unexpected(command, line),
        };
    }

    private async Task SendAsync(byte[] header, ReadOnlyMemory<byte>? data, CancellationToken ct)
    {
        if (data is not { } body)
        {
            await stream.WriteAsync(header, ct);
        }
        else
        {
            // One write for small items (one TCP segment with NoDelay); large values go after the header.
            var total = header.Length + body.Length + 2;
            if (total <= 64 * 1024)
            {
                var frame = ArrayPool<byte>.Shared.Rent(total);
                try
                {
                    header.CopyTo(frame, 0);
                    body.Span.CopyTo(frame.AsSpan(header.Length));
                    frame[total - 2] = (byte)'\r';
                    frame[total - 1] = (byte)'\n';
                    await stream.WriteAsync(frame.AsMemory(0, total), ct);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(frame);
                }
            }
            else
            {
                await stream.WriteAsync(header, ct);
                await stream.WriteAsync(body, ct);
                await stream.WriteAsync("\r\n"u8.ToArray(), ct);
            }
        }

        await stream.FlushAsync(ct);
    }

    /// <summary>The next reply line, without its CRLF.</summary>
    private async Task<string> ReadLineAsync(CancellationToken ct)
    {
        while (true)
        {
            var available = _buffer.AsSpan(_start, _end - _start);
            var newline = available.IndexOf("\r\n"u8);
            if (newline >= 0)
            {
                var line = Encoding.ASCII.GetString(available[..newline]);
                _start += newline + 2;
                return line;
            }

            if (available.Length >= MaxLineBytes)
            {
                throw new MemcachedProtocolException("memcached sent a reply line longer than any this client expects.");
            }

            await FillAsync(ct);
        }
    }

    private async Task ReadExactlyAsync(byte[] target, CancellationToken ct)
    {
        var copied = 0;
        while (copied < target.Length)
        {
            if (_start == _end)
            {
                await FillAsync(ct);
            }

            var count = Math.Min(_end - _start, target.Length - copied);
            _buffer.AsSpan(_start, count).CopyTo(target.AsSpan(copied));
            _start += count;
            copied += count;
        }
    }

    private async Task ExpectCrLfAsync(CancellationToken ct)
    {
        while (_end - _start < 2)
        {
            await FillAsync(ct);
        }

        if (_buffer[_start] != '\r' || _buffer[_start + 1] != '\n')
        {
            throw new MemcachedProtocolException("memcached's value was not followed by CRLF.");
        }

        _start += 2;
    }

    /// <summary>Reads more bytes into the buffer (moving what is unread to its front first).</summary>
    private async Task FillAsync(CancellationToken ct)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        var read = await stream.ReadAsync(_buffer.AsMemory(_end), ct);
        if (read == 0)
        {
            throw new IOException("memcached closed the connection.");
        }

        _end += read;
    }

    private static void CheckKey(string key)
    {
        if (!IsValidKey(key))
        {
            throw new ArgumentException("Not a valid memcached key (1-250 bytes of printable ASCII, no spaces).", nameof(key));
        }
    }

    private static byte[] Line(FormattableString command) => Encoding.ASCII.GetBytes(command.ToString(CultureInfo.InvariantCulture) + "\r\n");

    private static Exception Unexpected(string command, string line)
    {
        if (line == "ERROR" || line.StartsWith("CLIENT_ERROR", StringComparison.Ordinal) || line.StartsWith("SERVER_ERROR", StringComparison.Ordinal))
        {
            // memcached's own words (e.g. "SERVER_ERROR out of memory storing object"), cut short: it never quotes a value.
            return new MemcachedServerException($"memcached refused {command}: {Truncate(line)}");
        }

        // Not echoed: out of step, the "line" may be part of a cached value (personal data), and exception messages reach logs.
        return new MemcachedProtocolException(string.Create(CultureInfo.InvariantCulture, $"memcached answered {command} with an unexpected {line.Length}-character reply."));
    }

    private static string Truncate(string line) => line.Length <= 80 ? line : line[..80];
}
