using System.Text;
using CustomerRecords.Api.Caching;

namespace CustomerRecords.Tests.Caching;

/// <summary>
/// The text protocol of <see cref="MemcachedConnection"/> against a scripted stream: the exact bytes sent, and
/// every reply memcached can give (or should never give) parsed, also when it arrives one byte at a time.
/// </summary>
public sealed class MemcachedProtocolTests
{
    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(1)]
    public async Task GetsSendsTheCommandAndParsesValueFlagsAndCas(int chunk)
    {
        var stream = new ScriptedStream("VALUE k1 8 5 42\r\nhello\r\nEND\r\n", chunk);
        await using var connection = new MemcachedConnection(stream);

        var item = await connection.GetsAsync("k1", CancellationToken.None);

        Assert.Equal("gets k1\r\n", stream.Sent);
        Assert.NotNull(item);
        Assert.Equal("hello", Encoding.ASCII.GetString(item.Value));
        Assert.Equal((8u, 42ul), (item.Flags, item.Cas));
    }

    [Fact]
    public async Task AValueContainingCrLfAndEndIsReadByItsLengthNotByLines()
    {
        var value = "a\r\nEND\r\nb";
        var stream = new ScriptedStream($"VALUE k 0 {value.Length} 1\r\n{value}\r\nEND\r\n", 3);
        await using var connection = new MemcachedConnection(stream);

        var item = await connection.GetsAsync("k", CancellationToken.None);

        Assert.Equal(value, Encoding.ASCII.GetString(item!.Value));
    }

    [Fact]
    public async Task GetsOfAMissingKeyIsNull()
    {
        await using var connection = new MemcachedConnection(new ScriptedStream("END\r\n"));

        Assert.Null(await connection.GetsAsync("missing", CancellationToken.None));
    }

    [Fact]
    public async Task TwoRepliesInOneReadAreAnsweredInOrder()
    {
        var stream = new ScriptedStream("END\r\nVALUE b 0 1 7\r\nx\r\nEND\r\n");
        await using var connection = new MemcachedConnection(stream);

        Assert.Null(await connection.GetsAsync("a", CancellationToken.None));
        Assert.Equal(7ul, (await connection.GetsAsync("b", CancellationToken.None))!.Cas);
        Assert.Equal("gets a\r\ngets b\r\n", stream.Sent);
    }

    [Theory]
    [InlineData("set", "STORED", "Stored")]
    [InlineData("add", "STORED", "Stored")]
    [InlineData("add", "NOT_STORED", "NotStored")]
    public async Task SetAndAddSendHeaderAndDataAndParseTheReply(string command, string reply, string expected)
    {
        var stream = new ScriptedStream(reply + "\r\n");
        await using var connection = new MemcachedConnection(stream);
        var data = Encoding.ASCII.GetBytes("{\"v\":1}");

        var result = command == "set"
            ? await connection.SetAsync("key", 3, 60, data, CancellationToken.None)
            : await connection.AddAsync("key", 3, 60, data, CancellationToken.None);

        Assert.Equal(expected, result.ToString());
        Assert.Equal($"{command} key 3 60 7\r\n{{\"v\":1}}\r\n", stream.Sent);
    }

    [Theory]
    [InlineData("STORED", "Stored")]
    [InlineData("EXISTS", "Exists")]
    [InlineData("NOT_FOUND", "NotFound")]
    public async Task CasSendsTheTokenAndParsesEveryOutcome(string reply, string expected)
    {
        var stream = new ScriptedStream(reply + "\r\n", 2);
        await using var connection = new MemcachedConnection(stream);

        var result = await connection.CasAsync("key", 0, 0, "xy"u8.ToArray(), 18446744073709551615, CancellationToken.None);

        Assert.Equal(expected, result.ToString());
        Assert.Equal("cas key 0 0 2 18446744073709551615\r\nxy\r\n", stream.Sent);
    }

    [Fact]
    public async Task ALargeValueIsSentWholeAfterItsHeader()
    {
        var data = new byte[300_000];
        Array.Fill(data, (byte)'z');
        var stream = new ScriptedStream("STORED\r\n");
        await using var connection = new MemcachedConnection(stream);

        await connection.SetAsync("big", 0, 0, data, CancellationToken.None);

        Assert.Equal("set big 0 0 300000\r\n" + new string('z', 300_000) + "\r\n", stream.Sent);
    }

    [Theory]
    [InlineData("DELETED", true)]
    [InlineData("NOT_FOUND", false)]
    public async Task DeleteParsesBothOutcomes(string reply, bool expected)
    {
        var stream = new ScriptedStream(reply + "\r\n");
        await using var connection = new MemcachedConnection(stream);

        Assert.Equal(expected, await connection.DeleteAsync("key", CancellationToken.None));
        Assert.Equal("delete key\r\n", stream.Sent);
    }

    [Fact]
    public async Task VersionAndStatsAreParsed()
    {
        var stream = new ScriptedStream("VERSION 1.6.18\r\nSTAT pid 1234\r\nSTAT uptime 10\r\nSTAT version 1.6.18\r\nEND\r\n", 5);
        await using var connection = new MemcachedConnection(stream);

        Assert.Equal("1.6.18", await connection.VersionAsync(CancellationToken.None));
        var stats = await connection.StatsAsync(CancellationToken.None);
        Assert.Equal(("1234", "10"), (stats["pid"], stats["uptime"]));
        Assert.Equal("version\r\nstats\r\n", stream.Sent);
    }

    [Theory]
    [InlineData("SERVER_ERROR out of memory storing object")]
    [InlineData("CLIENT_ERROR bad data chunk")]
    [InlineData("ERROR")]
    public async Task ServerErrorsAreServerExceptionsCarryingMemcachedsText(string reply)
    {
        await using var connection = new MemcachedConnection(new ScriptedStream(reply + "\r\n"));

        var error = await Assert.ThrowsAsync<MemcachedServerException>(() => connection.SetAsync("k", 0, 0, "v"u8.ToArray(), CancellationToken.None));

        Assert.Contains(reply, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("VALUE other 0 1 1\r\nx\r\nEND\r\n")] // another key
    [InlineData("VALUE k 0 1\r\nx\r\nEND\r\n")] // no cas token
    [InlineData("VALUE k 0 1 1\r\nxy\r\nEND\r\n")] // data longer than announced
    [InlineData("VALUE k 0 1 1\r\nx\r\nVALUE k 0 1 1\r\n")] // no END
    [InlineData("VALUE k x 1 1\r\nx\r\nEND\r\n")] // flags not a number
    [InlineData("VALUE k 0 99999999 1\r\n")] // more than any item can hold
    [InlineData("STORED\r\n")] // a reply to another command
    public async Task AMalformedGetsReplyIsAProtocolError(string reply)
    {
        await using var connection = new MemcachedConnection(new ScriptedStream(reply));

        await Assert.ThrowsAsync<MemcachedProtocolException>(() => connection.GetsAsync("k", CancellationToken.None));
    }

    [Fact]
    public async Task AnOutOfStepReplyIsNeverQuotedInTheError()
    {
        // A value's bytes read as a reply line (framing lost) may be personal data; exception messages reach logs.
        await using var connection = new MemcachedConnection(new ScriptedStream("{\"email\":\"someone@example.com\"}\r\n"));

        var error = await Assert.ThrowsAsync<MemcachedProtocolException>(() => connection.DeleteAsync("k", CancellationToken.None));

        Assert.DoesNotContain("example.com", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AReplyLineWithoutEndIsRefusedInsteadOfBufferedForever()
    {
        await using var connection = new MemcachedConnection(new ScriptedStream(new string('A', 5000)));

        await Assert.ThrowsAsync<MemcachedProtocolException>(() => connection.GetsAsync("k", CancellationToken.None));
    }

    [Fact]
    public async Task EndOfStreamMidReplyIsAnIoError()
    {
        await using var connection = new MemcachedConnection(new ScriptedStream("VALUE k 0 10 1\r\nabc"));

        await Assert.ThrowsAsync<IOException>(() => connection.GetsAsync("k", CancellationToken.None));
    }

    [Fact]
    public async Task CasOutcomesAreRefusedAsRepliesToSetAndAdd()
    {
        await using var connection = new MemcachedConnection(new ScriptedStream("EXISTS\r\n"));

        await Assert.ThrowsAsync<MemcachedProtocolException>(() => connection.SetAsync("k", 0, 0, "v"u8.ToArray(), CancellationToken.None));
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("tab\tkey")]
    [InlineData("new\nline")]
    [InlineData("")]
    [InlineData("é")]
    public async Task AKeyMemcachedWouldRefuseIsNeverSent(string key)
    {
        var stream = new ScriptedStream("END\r\n");
        await using var connection = new MemcachedConnection(stream);

        await Assert.ThrowsAsync<ArgumentException>(() => connection.GetsAsync(key, CancellationToken.None));
        Assert.Equal(string.Empty, stream.Sent);
    }

    [Fact]
    public async Task AValueOverTheItemLimitIsNeverSent()
    {
        var stream = new ScriptedStream("STORED\r\n");
        await using var connection = new MemcachedConnection(stream);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => connection.SetAsync("k", 0, 0, new byte[MemcachedConnection.MaxValueBytes + 1], CancellationToken.None));
        Assert.Equal(string.Empty, stream.Sent);
    }

    [Fact]
    public void ExpiryIsRelativeSecondsUpToThirtyDaysAndAnAbsoluteUnixTimeBeyond()
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

        Assert.Equal(0, MemcachedConnection.Expiry(null, now));
        Assert.Equal(1, MemcachedConnection.Expiry(TimeSpan.FromMilliseconds(1), now)); // rounded up: never "no expiry"
        Assert.Equal(1, MemcachedConnection.Expiry(TimeSpan.Zero, now));
        Assert.Equal(61, MemcachedConnection.Expiry(TimeSpan.FromSeconds(60.2), now));
        Assert.Equal(2_592_000, MemcachedConnection.Expiry(TimeSpan.FromDays(30), now));
        Assert.Equal(1_800_000_000 + 2_592_001, MemcachedConnection.Expiry(TimeSpan.FromDays(30) + TimeSpan.FromSeconds(1), now));
    }

    [Fact]
    public void KeysMemcachedAcceptsAreSentAsTheyAreAndOthersAsTheirSha256()
    {
        Assert.Equal("v2:prefix:v3:customer:42", MemcachedClient.WireKey("v2:prefix:v3:customer:42"));
        Assert.Equal(new string('k', 250), MemcachedClient.WireKey(new string('k', 250)));

        foreach (var key in new[] { new string('k', 251), "with space", "ctl\u0001", "é", "sha256:looks-hashed" })
        {
            var wire = MemcachedClient.WireKey(key);
            Assert.Matches("^sha256:[0-9a-f]{64}$", wire);
            Assert.True(MemcachedConnection.IsValidKey(wire));
        }

        Assert.NotEqual(MemcachedClient.WireKey("a b"), MemcachedClient.WireKey("a  b"));
    }

    [Fact]
    public void AKeyAlwaysGoesToTheSameServerAndAnAddedServerMovesFewKeys()
    {
        var keys = Enumerable.Range(0, 10_000).Select(i => $"v2:p:v3:customer:{i}").ToList();
        var onThree = keys.Select(k => MemcachedClient.ServerIndex(k, 3)).ToList();
        var onFour = keys.Select(k => MemcachedClient.ServerIndex(k, 4)).ToList();

        Assert.Equal(onThree, keys.Select(k => MemcachedClient.ServerIndex(k, 3)));
        Assert.All(Enumerable.Range(0, 3), s => Assert.InRange(onThree.Count(i => i == s), 2_800, 3_900)); // spread evenly
        var moved = onThree.Zip(onFour).Count(p => p.First != p.Second);
        Assert.True(moved < 3_000, $"{moved} of 10,000 keys moved to another server"); // about 1/4 should
        Assert.All(onThree.Zip(onFour).Where(p => p.First != p.Second), p => Assert.Equal(3, p.Second)); // only to the new one
    }

    [Theory]
    [InlineData("cache1:11211", "cache1", 11211)]
    [InlineData("cache1", "cache1", 11211)]
    [InlineData(" 10.0.0.5:11212 ", "10.0.0.5", 11212)]
    [InlineData("[::1]:11213", "::1", 11213)]
    [InlineData("my-cluster.abc123.0001.use1.cache.amazonaws.com:11211", "my-cluster.abc123.0001.use1.cache.amazonaws.com", 11211)]
    public void ServerListsAreParsed(string value, string host, int port)
    {
        Assert.True(MemcachedClient.TryParseServers(value, out var servers, out _));
        Assert.Equal((host, port), (servers.Single().Host, servers.Single().Port));
    }

    [Theory]
    [InlineData("")]
    [InlineData("host:0")]
    [InlineData("host:70000")]
    [InlineData("host:port")]
    [InlineData("a b:11211")]
    [InlineData(",")]
    [InlineData("[::1")]
    public void MalformedServerListsAreRefused(string value)
    {
        Assert.False(MemcachedClient.TryParseServers(value, out _, out var error));
        Assert.StartsWith("ConnectionStrings:Memcached", error, StringComparison.Ordinal);
    }

    [Fact]
    public void SeveralServersKeepTheirOrder()
    {
        Assert.True(MemcachedClient.TryParseServers("a:1,b:2, c", out var servers, out _));
        Assert.Equal(["a:1", "b:2", "c:11211"], servers.Select(s => $"{s.Host}:{s.Port}"));
    }

    [Fact]
    public void VersionsTravelInTheFlagsShiftedByOneSoThatZeroMeansNone()
    {
        Assert.Equal(1u, MemcachedDistributedCache.Flags(0));
        Assert.Equal((uint)int.MaxValue + 1, MemcachedDistributedCache.Flags(int.MaxValue));
        Assert.Null(MemcachedDistributedCache.Flags(null));
        Assert.Null(MemcachedDistributedCache.Flags(-1));
        Assert.Null(MemcachedDistributedCache.Flags(uint.MaxValue));
        Assert.Null(MemcachedDistributedCache.VersionOf(0));
        Assert.Equal(7, MemcachedDistributedCache.VersionOf(MemcachedDistributedCache.Flags(7)!.Value));
    }

    /// <summary>Reads come from a fixed reply, at most <c>chunk</c> bytes per read; writes are recorded.</summary>
    private sealed class ScriptedStream(string reply, int chunk = int.MaxValue) : Stream
    {
        private readonly MemoryStream _reply = new(Encoding.UTF8.GetBytes(reply));
        private readonly MemoryStream _sent = new();

        public string Sent => Encoding.UTF8.GetString(_sent.ToArray());

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => _reply.Read(buffer, offset, Math.Min(count, chunk));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(_reply.Read(buffer.Span[..Math.Min(buffer.Length, chunk)]));

        public override void Write(byte[] buffer, int offset, int count) => _sent.Write(buffer, offset, count);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _sent.Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _reply.Dispose();
                _sent.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
