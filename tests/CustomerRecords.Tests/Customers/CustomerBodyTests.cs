using System.Text;
using CustomerRecords.Api.Customers;

namespace CustomerRecords.Tests.Customers;

public class CustomerBodyTests
{
    [Theory]
    [InlineData("{\"name\":\"a\",\"name\":\"b\"}", "name")]
    [InlineData("{\"id\":1}", "id")]
    [InlineData("{\"extra\":{\"deep\":[1,2,3]}}", "extra")]
    [InlineData("{\"email\":[\"a@example.com\"]}", "email")]
    [InlineData("{", "$")]
    [InlineData("\"just a string\"", "$")]
    [InlineData("{} []", "$")]
    [InlineData("{\"name\":\"a\"} // comment", "$")]
    public void StrictParsingNamesTheOffendingField(string json, string field)
    {
        Assert.False(CustomerBody.TryParse(Encoding.UTF8.GetBytes(json), ignoreUnknown: false, out _, out var errors));
        Assert.Contains(field, errors.Keys);
    }

    [Fact]
    public void UnknownFieldsCanBeIgnoredButServerOwnedOnesCannot()
    {
        Assert.True(CustomerBody.TryParse("{\"name\":\"a\",\"source\":\"x\"}"u8, ignoreUnknown: true, out var body, out _));
        Assert.Equal("a", body.Name.Value);
        Assert.False(CustomerBody.TryParse("{\"name\":\"a\",\"version\":2}"u8, ignoreUnknown: true, out _, out var errors));
        Assert.Contains("version", errors.Keys);
    }

    [Fact]
    public void NullAndAbsentAreDistinct()
    {
        Assert.True(CustomerBody.TryParse("{\"phone\":null}"u8, false, out var body, out _));
        Assert.True(body.Phone.Present);
        Assert.Null(body.Phone.Value);
        Assert.False(body.Name.Present);
    }

    [Fact]
    public void EscapedUnicodeIsDecoded()
    {
        Assert.True(CustomerBody.TryParse("{\"name\":\"Zo\\u00eb \\ud83e\\udd84\"}"u8, false, out var body, out _));
        Assert.Equal("Zoë 🦄", body.Name.Value);
    }

    [Theory]
    [InlineData("name")]
    [InlineData("email")]
    [InlineData("phone")]
    public void InvalidUtf8InAValueNamesTheField(string field)
    {
        foreach (var bad in new byte[][] { [0xFF], [0x80], [0xC3], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF4, 0x90, 0x80, 0x80] })
        {
            byte[] body = [.. Encoding.UTF8.GetBytes($"{{\"{field}\":\"a"), .. bad, .. "\"}"u8];
            foreach (var ignoreUnknown in new[] { false, true })
            {
                Assert.False(CustomerBody.TryParse(body, ignoreUnknown, out _, out var errors));
                Assert.Equal([field], errors.Keys);
            }
        }
    }

    [Theory]
    [InlineData("\\ud800")]
    [InlineData("\\udfff")]
    [InlineData("\\ud800x")]
    [InlineData("\\udc00\\ud800")]
    [InlineData("\\ud800\\ud800")]
    [InlineData("x\\ud83e")]
    public void AnEscapedLoneSurrogateInAValueNamesTheField(string escape)
    {
        foreach (var field in new[] { "name", "email", "phone" })
        {
            var json = $"{{\"{field}\":\"{escape}\",\"other\":1}}";
            Assert.False(CustomerBody.TryParse(Encoding.UTF8.GetBytes(json), ignoreUnknown: true, out _, out var errors));
            Assert.Equal([field], errors.Keys);
        }
    }

    [Theory]
    [InlineData("{\"na\\ud800me\":\"a\"}")]
    [InlineData("{\"\\udc00\":1,\"name\":\"a\"}")]
    [InlineData("{\"name\":\"a\",\"x\\ud83e\":null}")]
    public void AnEscapedLoneSurrogateInAPropertyNameIsABodyError(string json)
    {
        // Unknown fields are ignored on the original routes, but a name that is not text is not a field at all.
        foreach (var ignoreUnknown in new[] { false, true })
        {
            Assert.False(CustomerBody.TryParse(Encoding.UTF8.GetBytes(json), ignoreUnknown, out _, out var errors));
            Assert.Equal(["$"], errors.Keys);
        }
    }

    [Fact]
    public void InvalidUtf8InAPropertyNameIsABodyError()
    {
        byte[] json = [.. "{\"na"u8, 0xFF, .. "me\":\"a\",\"email\":\"a@b.co\"}"u8];
        foreach (var ignoreUnknown in new[] { false, true })
        {
            Assert.False(CustomerBody.TryParse(json, ignoreUnknown, out _, out var errors));
            Assert.Equal(["$"], errors.Keys);
        }
    }

    [Fact]
    public void InvalidUtf8ThatIsNeverDecodedStillFailsTheBody()
    {
        // In the value of an unknown field the original routes skip, and between tokens.
        byte[] skipped = [.. "{\"source\":\"x"u8, 0xFF, .. "\",\"name\":\"a\"}"u8];
        Assert.False(CustomerBody.TryParse(skipped, ignoreUnknown: true, out _, out var errors));
        Assert.Equal(["$"], errors.Keys);
        Assert.Contains("UTF-8", errors["$"][0], StringComparison.Ordinal);

        byte[] between = [.. "{\"name\":\"a\""u8, 0xFF, .. "}"u8];
        Assert.False(CustomerBody.TryParse(between, ignoreUnknown: true, out _, out errors));
        Assert.Equal(["$"], errors.Keys);
        Assert.Contains("UTF-8", errors["$"][0], StringComparison.Ordinal);
    }

    [Fact]
    public void RawControlCharactersAreNotJsonButEscapedOnesReachTheRules()
    {
        for (var c = 0; c < 0x20; c++)
        {
            byte[] raw = [.. "{\"name\":\"a"u8, (byte)c, .. "b\"}"u8];
            Assert.False(CustomerBody.TryParse(raw, false, out _, out var errors));
            Assert.Equal(["$"], errors.Keys);

            var escaped = Encoding.UTF8.GetBytes($"{{\"name\":\"a\\u{c:x4}b\"}}");
            Assert.True(CustomerBody.TryParse(escaped, false, out var body, out _));
            Assert.Equal($"a{(char)c}b", body.Name.Value);
        }
    }

    [Fact]
    public void ValidMultiByteTextIsStillRead()
    {
        Assert.True(CustomerBody.TryParse("{\"name\":\"Zoë 🦄 שלום \u200C\"}"u8, false, out var body, out _));
        Assert.Equal("Zoë 🦄 שלום \u200C", body.Name.Value);
    }
}
