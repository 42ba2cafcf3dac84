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
}
