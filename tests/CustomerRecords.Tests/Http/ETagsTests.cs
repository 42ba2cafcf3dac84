using CustomerRecords.Api.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace CustomerRecords.Tests.Http;

public class ETagsTests
{
    private static HttpRequest RequestWith(string header, params string[] values)
    {
        var request = new DefaultHttpContext().Request;
        request.Headers[header] = new StringValues(values);
        return request;
    }

    [Theory]
    [InlineData(0, "\"0\"")]
    [InlineData(7, "\"7\"")]
    [InlineData(1234567, "\"1234567\"")]
    [InlineData(int.MaxValue, "\"2147483647\"")]
    public void ETagIsTheQuotedVersionNumber(int version, string expected) =>
        Assert.Equal(expected, ETags.For(version));

    [Theory]
    [InlineData(1)]
    [InlineData(42)]
    [InlineData(int.MaxValue)]
    public void TheETagThatWasIssuedMatchesItsOwnVersionOnly(int version)
    {
        var tag = ETags.For(version);

        Assert.True(ETags.NoneMatch(RequestWith("If-None-Match", tag), version));
        Assert.False(ETags.NoneMatch(RequestWith("If-None-Match", tag), version - 1));
        Assert.Equal([version], ETags.IfMatch(RequestWith("If-Match", tag)).Versions);
    }

    [Fact]
    public void WithoutIfNoneMatchTheClientHasNoCurrentCopy() =>
        Assert.False(ETags.NoneMatch(new DefaultHttpContext().Request, 7));

    [Theory]
    [InlineData("\"7\"", true)]
    [InlineData("\"8\"", false)]
    [InlineData("\"6\"", false)]
    [InlineData("W/\"7\"", true)]            // weak comparison: W/ does not matter
    [InlineData("W/\"8\"", false)]
    [InlineData("*", true)]
    [InlineData("\"5\", \"7\"", true)]
    [InlineData("\"5\",\"7\",\"9\"", true)]
    [InlineData("\"5\", \"6\"", false)]
    [InlineData("\"5\", W/\"7\"", true)]
    [InlineData("\"5\", *", true)]
    [InlineData("7", false)]                 // not quoted
    [InlineData("\"7", false)]               // unterminated
    [InlineData("\"\"", false)]              // empty tag
    [InlineData("\"x7\"", false)]
    [InlineData("\"+7\"", false)]
    [InlineData("\"-7\"", false)]
    [InlineData("\"7.0\"", false)]
    [InlineData("\"2147483648\"", false)]    // beyond int
    [InlineData("", false)]
    [InlineData(",", false)]
    public void IfNoneMatchUsesWeakComparisonAgainstTheCurrentVersion(string header, bool expected) =>
        Assert.Equal(expected, ETags.NoneMatch(RequestWith("If-None-Match", header), 7));

    [Theory]
    [InlineData(new[] { "\"5\"", "\"7\"" }, true)]
    [InlineData(new[] { "\"5\"", "W/\"7\"" }, true)]
    [InlineData(new[] { "\"5\"", "\"6\"" }, false)]
    public void IfNoneMatchReadsEveryHeaderValue(string[] values, bool expected) =>
        Assert.Equal(expected, ETags.NoneMatch(RequestWith("If-None-Match", values), 7));

    [Fact]
    public void WithoutIfMatchThereIsNoPrecondition()
    {
        var (present, versions) = ETags.IfMatch(new DefaultHttpContext().Request);

        Assert.False(present);
        Assert.Null(versions);
    }

    [Theory]
    [InlineData("*")]
    [InlineData("\"7\", *")]
    [InlineData("*, \"7\"")]
    public void IfMatchStarAllowsAnyCurrentVersion(string header)
    {
        var (present, versions) = ETags.IfMatch(RequestWith("If-Match", header));

        Assert.True(present);
        Assert.Null(versions);
    }

    [Theory]
    [InlineData("\"7\"", new[] { 7 })]
    [InlineData("\"0\"", new[] { 0 })]
    [InlineData("\"7\", \"9\"", new[] { 7, 9 })]
    [InlineData("\"9\",\"7\",\"9\"", new[] { 9, 7, 9 })]
    [InlineData("W/\"7\", \"9\"", new[] { 9 })]    // strong comparison: weak tags never match
    [InlineData("\"abc\", \"9\"", new[] { 9 })]    // a tag this service never issued
    public void IfMatchListsTheStrongVersionsInOrder(string header, int[] expected)
    {
        var (present, versions) = ETags.IfMatch(RequestWith("If-Match", header));

        Assert.True(present);
        Assert.Equal(expected, versions);
    }

    [Theory]
    [InlineData("W/\"7\"")]
    [InlineData("w/\"7\"")]
    [InlineData("W/\"7\", W/\"8\"")]
    [InlineData("\"abc\"")]
    [InlineData("\"\"")]
    [InlineData("\"-7\"")]
    [InlineData("\"2147483648\"")]
    public void IfMatchWithNoUsableStrongTagAllowsNoVersion(string header)
    {
        var (present, versions) = ETags.IfMatch(RequestWith("If-Match", header));

        Assert.True(present);
        Assert.NotNull(versions);
        Assert.Empty(versions);
    }

    [Theory]
    [InlineData("7")]
    [InlineData("\"7")]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData(",")]
    [InlineData("garbage")]
    public void MalformedIfMatchIsPresentButAllowsNoVersion(string header)
    {
        var (present, versions) = ETags.IfMatch(RequestWith("If-Match", header));

        Assert.True(present);
        Assert.NotNull(versions);
        Assert.Empty(versions);
    }

    [Fact]
    public void IfMatchReadsEveryHeaderValue()
    {
        var (present, versions) = ETags.IfMatch(RequestWith("If-Match", "\"3\"", "W/\"4\"", "\"5\""));

        Assert.True(present);
        Assert.Equal([3, 5], versions);
    }
}
