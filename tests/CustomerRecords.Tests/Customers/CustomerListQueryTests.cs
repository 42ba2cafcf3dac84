using CustomerRecords.Api.Customers;


namespace CustomerRecords.Tests.Customers;

public class CustomerListQueryTests
{
    [Fact]
    public void DefaultsAreFiftyById()
    {
        Assert.True(CustomerListQuery.TryCreate(null, null, null, null, null, out var query, out _));
        Assert.Equal(50, query.Limit);
        Assert.Equal(CustomerSort.IdAscending, query.Sort);
        Assert.Null(query.After);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(5)]
    public void CursorRoundTrips(int sortCode)
    {
        var sort = (CustomerSort)sortCode;
        var last = new Customer(42, "Zoë 🦄", "z@example.com", null, new DateTime(2026, 1, 2, 3, 4, 5, 678, DateTimeKind.Utc).AddTicks(9990), DateTime.UtcNow, 1);
        var encoded = CustomerCursor.After(sort, last).Encode();

        Assert.True(CustomerCursor.TryDecode(encoded, sort, out var decoded, out _));

        Assert.Equal(CustomerCursor.After(sort, last), decoded);
        Assert.DoesNotContain('=', encoded);
        Assert.DoesNotContain('+', encoded);
    }

    [Fact]
    public void CursorOfAnotherSortIsRejected()
    {
        var encoded = new CustomerCursor(CustomerSort.NameAscending, 1, "a", null).Encode();
        Assert.False(CustomerCursor.TryDecode(encoded, CustomerSort.IdAscending, out _, out var error));
        Assert.Contains("sort", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("!!!")]
    [InlineData("AAAA")]
    [InlineData("AQEAAAAqAA")]
    [InlineData("AgEAAAAq")]
    public void MalformedCursorsAreRejected(string text) =>
        Assert.False(CustomerCursor.TryDecode(text, CustomerSort.IdAscending, out _, out _));

    [Theory]
    [InlineData("1", true)]
    [InlineData("500", true)]
    [InlineData("0", false)]
    [InlineData("501", false)]
    [InlineData("+5", false)]
    [InlineData("5.0", false)]
    public void LimitMustBeOneToFiveHundred(string limit, bool valid) =>
        Assert.Equal(valid, CustomerListQuery.TryCreate(limit, null, null, null, null, out _, out _));
}
