using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using CustomerRecords.Api.Idempotency;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace CustomerRecords.Tests.Idempotency;

public class IdempotencyKeysTests
{
    private const string Route = "POST /customers";
    private static readonly string?[] Fields = ["Ann", "a@b.co", null];

    private static DefaultHttpContext Http(StringValues? key = null, ClaimsPrincipal? user = null)
    {
        var http = new DefaultHttpContext();
        if (key is { } values)
        {
            http.Request.Headers[IdempotencyKeys.Header] = values;
        }

        if (user is not null)
        {
            http.User = user;
        }

        return http;
    }

    private static ClaimsPrincipal SignedIn(string name) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.Name, name)], authenticationType: "Test"));

    private static (string Key, string RequestHash) Read(DefaultHttpContext http, string route, string?[] fields)
    {
        Assert.True(IdempotencyKeys.TryRead(http, route, fields, out var request, out var error));
        Assert.Null(error);
        Assert.NotNull(request);
        return (request.Value.Key, request.Value.RequestHash);
    }

    private static string Sha256Hex(string text) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    [Fact]
    public void HeaderNameIsIdempotencyKey() =>
        Assert.Equal("Idempotency-Key", IdempotencyKeys.Header);

    [Fact]
    public void WithoutTheHeaderTheRequestIsNotIdempotent()
    {
        Assert.True(IdempotencyKeys.TryRead(Http(), Route, Fields, out var request, out var error));

        Assert.Null(request);
        Assert.Null(error);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("has space")]
    [InlineData("tab\tkey")]
    [InlineData("line\nkey")]
    [InlineData("del\u007f")]
    [InlineData("nul\0")]
    [InlineData("café")]
    [InlineData("emoji🦄")]
    public void MalformedKeyIsRefusedWithAnErrorNamingTheHeader(string key)
    {
        Assert.False(IdempotencyKeys.TryRead(Http(key), Route, Fields, out var request, out var error));

        Assert.Null(request);
        Assert.NotNull(error);
        Assert.Contains("Idempotency-Key", error, StringComparison.Ordinal);
    }

    [Fact]
    public void KeyLongerThan255CharactersIsRefused()
    {
        Assert.False(IdempotencyKeys.TryRead(Http(new string('k', 256)), Route, Fields, out var request, out var error));

        Assert.Null(request);
        Assert.Contains("Idempotency-Key", error, StringComparison.Ordinal);
    }

    [Fact]
    public void KeyOf255CharactersIsAccepted() =>
        Read(Http(new string('k', 255)), Route, Fields);

    [Theory]
    [InlineData("a", "b")]
    [InlineData("same", "same")]
    public void TwoHeaderValuesAreRefused(string first, string second)
    {
        Assert.False(IdempotencyKeys.TryRead(Http(new StringValues([first, second])), Route, Fields, out var request, out var error));

        Assert.Null(request);
        Assert.Contains("Idempotency-Key", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("a", true)]
    [InlineData("!", true)]
    [InlineData("~", true)]
    [InlineData("0f8fad5b-d9cb-469f-a165-70867728950e", true)]
    [InlineData("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", true)]
    [InlineData(" ", false)]
    [InlineData("a b", false)]
    [InlineData("a\tb", false)]
    [InlineData("a\u007f", false)]
    [InlineData("a\u00a0", false)]
    [InlineData("é", false)]
    public void ValidKeyIsOneToMaxLengthVisibleAsciiCharacters(string? key, bool expected) =>
        Assert.Equal(expected, IdempotencyKeys.IsValidKey(key));

    [Theory]
    [InlineData(1, true)]
    [InlineData(255, true)]
    [InlineData(256, false)]
    [InlineData(10_000, false)]
    public void KeyLengthLimitIs255(int length, bool expected)
    {
        Assert.Equal(255, IdempotencyKeys.MaxLength);
        Assert.Equal(expected, IdempotencyKeys.IsValidKey(new string('x', length)));
    }

    [Fact]
    public void TheRequestCarriesTheStoredKeyAndTheRequestHash()
    {
        var (key, requestHash) = Read(Http("key-1", SignedIn("alice")), Route, Fields);

        Assert.Equal(IdempotencyKeys.StoredKey(Route, "alice", "key-1"), key);
        Assert.Equal(IdempotencyKeys.RequestHash(Route, Fields), requestHash);
    }

    [Fact]
    public void AnonymousCallersShareTheDashCaller()
    {
        var (key, _) = Read(Http("key-1"), Route, Fields);

        Assert.Equal(IdempotencyKeys.StoredKey(Route, "-", "key-1"), key);
    }

    [Fact]
    public void NamedButUnauthenticatedIdentityCountsAsAnonymous()
    {
        var unauthenticated = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "alice")]));

        var (key, _) = Read(Http("key-1", unauthenticated), Route, Fields);

        Assert.Equal(Read(Http("key-1"), Route, Fields).Key, key);
    }

    [Fact]
    public void TheSameKeyFromTheSameCallerOnTheSameRouteIsTheSameStoredKey() =>
        Assert.Equal(
            Read(Http("key-1", SignedIn("alice")), Route, Fields).Key,
            Read(Http("key-1", SignedIn("alice")), Route, ["Bob", "other@b.co", "+1 555"]).Key);

    [Fact]
    public void StoredKeyDiffersPerRoute() =>
        Assert.NotEqual(
            Read(Http("key-1", SignedIn("alice")), "POST /customers", Fields).Key,
            Read(Http("key-1", SignedIn("alice")), "POST /create", Fields).Key);

    [Fact]
    public void StoredKeyDiffersPerCaller()
    {
        var alice = Read(Http("key-1", SignedIn("alice")), Route, Fields).Key;
        var bob = Read(Http("key-1", SignedIn("bob")), Route, Fields).Key;
        var anonymous = Read(Http("key-1"), Route, Fields).Key;

        Assert.NotEqual(alice, bob);
        Assert.NotEqual(alice, anonymous);
        Assert.NotEqual(bob, anonymous);
    }

    [Fact]
    public void StoredKeyDiffersPerKey() =>
        Assert.NotEqual(
            Read(Http("key-1", SignedIn("alice")), Route, Fields).Key,
            Read(Http("key-2", SignedIn("alice")), Route, Fields).Key);

    [Theory]
    [InlineData("POST /customers", "alice", "k", "POST /customers\nalice\nk")]
    [InlineData("POST /create", "-", "0f8fad5b", "POST /create\n-\n0f8fad5b")]
    public void StoredKeyIsTheHexSha256OfRouteCallerAndKeyOnLines(string route, string caller, string key, string text) =>
        Assert.Equal(Sha256Hex(text), IdempotencyKeys.StoredKey(route, caller, key));

    [Fact]
    public void StoredKeyHasAFixedLengthWhateverTheKeyLength()
    {
        var shortKey = IdempotencyKeys.StoredKey(Route, "alice", "k");
        var longKey = IdempotencyKeys.StoredKey(Route, "alice", new string('k', 255));

        Assert.Equal(64, shortKey.Length);
        Assert.Equal(64, longKey.Length);
        Assert.Matches("^[0-9a-f]{64}$", longKey);
    }

    [Fact]
    public void RequestHashFormatIsUnchangedForKeysAlreadyStored() =>
        Assert.Equal(
            Sha256Hex("POST /customers\nAnn\na@b.co\n\0"),
            IdempotencyKeys.RequestHash("POST /customers", ["Ann", "a@b.co", null]));

    [Fact]
    public void RequestHashIsTheSameForTheSameFields() =>
        Assert.Equal(
            Read(Http("key-1"), Route, ["Ann", "a@b.co", null]).RequestHash,
            Read(Http("key-2", SignedIn("bob")), Route, ["Ann", "a@b.co", null]).RequestHash);

    [Theory]
    [InlineData(0, "Anne")]
    [InlineData(0, "ann")]
    [InlineData(1, "a@b.com")]
    [InlineData(2, "+1 555 0100")]
    [InlineData(2, "")]
    [InlineData(1, null)]
    public void RequestHashChangesWhenAnyFieldChanges(int index, string? value)
    {
        var changed = (string?[])Fields.Clone();
        changed[index] = value;

        Assert.NotEqual(
            Read(Http("key-1"), Route, Fields).RequestHash,
            Read(Http("key-1"), Route, changed).RequestHash);
    }

    [Fact]
    public void RequestHashChangesWithTheRoute() =>
        Assert.NotEqual(
            IdempotencyKeys.RequestHash("POST /customers", Fields),
            IdempotencyKeys.RequestHash("POST /create", Fields));

    [Fact]
    public void NullFieldDiffersFromAnEmptyString() =>
        Assert.NotEqual(
            IdempotencyKeys.RequestHash(Route, ["Ann", null]),
            IdempotencyKeys.RequestHash(Route, ["Ann", ""]));

    [Fact]
    public void RequestHashChangesWithTheNumberOfFields()
    {
        var one = IdempotencyKeys.RequestHash(Route, ["Ann"]);
        var twoWithEmpty = IdempotencyKeys.RequestHash(Route, ["Ann", ""]);
        var none = IdempotencyKeys.RequestHash(Route, []);

        Assert.NotEqual(one, twoWithEmpty);
        Assert.NotEqual(one, none);
        Assert.Equal(Sha256Hex(Route), none);
    }
}
