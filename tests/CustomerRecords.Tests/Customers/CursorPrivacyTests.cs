using System.Buffers.Text;
using System.Net;
using System.Text;
using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.Customers;

/// <summary>
/// A list cursor is opaque for real: it carries no customer data a client (or a proxy log) can read, a
/// changed or foreign cursor is refused with 400, and with <c>Customers:CursorKey</c> configured every
/// instance accepts every other instance's cursors, also after a restart.
/// </summary>
public sealed class CursorPrivacyTests : IDisposable
{
    private const string Key = "a-shared-cursor-secret-of-at-least-32-characters";
    private readonly TempDirectory _directory = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }

    [Fact]
    public async Task ANameSortedCursorRevealsNoNameOrEmail()
    {
        await using var factory = new CustomerApiFactory(Settings(Key));
        using var client = factory.CreateClient();
        var tag = Guid.NewGuid().ToString("N")[..10];
        foreach (var name in new[] { $"Zebediah {tag} One", $"Zebediah {tag} Two" })
        {
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsync(new Uri("/customers", UriKind.Relative), Json.Body(new { name, email = $"{tag}.{Guid.NewGuid():N}@example.com" }))).StatusCode);
        }

        var next = await NextAsync(client, $"/customers?sort=name&limit=1&q=zebediah%20{tag}");

        var bytes = Encoding.Latin1.GetString(Base64Url.DecodeFromChars(next));
        Assert.DoesNotContain(tag, next, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(tag, bytes, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("zebediah", bytes, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task APhoneSearchCursorRevealsNoPhone()
    {
        await using var factory = new CustomerApiFactory(Settings(Key));
        using var client = factory.CreateClient();
        var digits = string.Concat(Guid.NewGuid().ToByteArray().Take(6).Select(b => (b % 10).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        for (var i = 0; i < 2; i++)
        {
            var body = Json.Body(new { name = $"Phone Owner {i}", email = Json.UniqueEmail(), phone = $"+9 {digits} {i}" });
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsync(new Uri("/customers", UriKind.Relative), body)).StatusCode);
        }

        var next = await NextAsync(client, $"/customers?limit=1&phone=9{digits}");

        var bytes = Encoding.Latin1.GetString(Base64Url.DecodeFromChars(next));
        Assert.DoesNotContain(digits, next, StringComparison.Ordinal);
        Assert.DoesNotContain(digits, bytes, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAlteredCursorIsRefusedWith400()
    {
        await using var factory = new CustomerApiFactory(Settings(Key));
        using var client = factory.CreateClient();
        await SeedAsync(client, 3);
        var next = await NextAsync(client, "/customers?limit=1");
        var altered = next[..^2] + (next[^2] == 'A' ? 'B' : 'A') + next[^1];

        using var response = await client.GetAsync(new Uri($"/customers?limit=1&after={altered}", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull((await response.ReadObjectAsync())["errors"]!["after"]);
    }

    [Fact]
    public async Task WithASharedKeyAnotherInstanceContinuesTheListAndWithoutOneItRefusesTheCursor()
    {
        await using var a = new CustomerApiFactory(Settings(Key));
        using var clientA = a.CreateClient();
        await SeedAsync(clientA, 4);
        var next = await NextAsync(clientA, "/customers?limit=2");
        var pageFromA = await (await clientA.GetAsync(new Uri($"/customers?limit=2&after={next}", UriKind.Relative))).Content.ReadAsStringAsync();

        await using var b = new CustomerApiFactory(Settings(Key));
        using var clientB = b.CreateClient();
        using var fromB = await clientB.GetAsync(new Uri($"/customers?limit=2&after={next}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, fromB.StatusCode);
        Assert.Equal(ItemsOf(pageFromA), ItemsOf(await fromB.Content.ReadAsStringAsync()));

        await using var unkeyed = new CustomerApiFactory(Settings(null));
        using var clientC = unkeyed.CreateClient();
        Assert.Equal(HttpStatusCode.BadRequest, (await clientC.GetAsync(new Uri($"/customers?limit=2&after={next}", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task ACursorKeyShorterThan32CharactersStopsStartUpNamingTheSetting()
    {
        await using var factory = new CustomerApiFactory(Settings("too-short"));

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("Customers:CursorKey", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("too-short", error.ToString(), StringComparison.Ordinal);
    }

    private Dictionary<string, string?> Settings(string? key)
    {
        var settings = CustomerApiFactory.SqliteSettings(_directory.Path);
        settings["Database:SeedSampleData"] = "false";
        if (key is not null)
        {
            settings["Customers:CursorKey"] = key;
        }

        return settings;
    }

    private static async Task SeedAsync(HttpClient client, int count)
    {
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsync(new Uri("/customers", UriKind.Relative), Json.Body(new { name = $"Cursor {i}", email = Json.UniqueEmail("cursor") }))).StatusCode);
        }
    }

    private static async Task<string> NextAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (string)(await response.ReadObjectAsync())["next"]!;
    }

    private static string ItemsOf(string page) => System.Text.Json.Nodes.JsonNode.Parse(page)!["items"]!.ToJsonString();
}
