using System.Net;
using System.Text;
using CustomerRecords.Api.Auth;
using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.Bulk;

/// <summary>
/// <c>POST /customers/import</c> on SQLite, every answer checked against the OpenAPI document: the summary with its
/// rejections, media types, the body limit, query values, file errors, conflicts under <c>on_conflict=fail</c>, scopes.
/// </summary>
public sealed class ImportApiTests : ImportSuite
{
    private static readonly string WriterKey = ApiKeyHash.GenerateKey();
    private static readonly string ReaderKey = ApiKeyHash.GenerateKey();

    protected override Task<Dictionary<string, string?>> NewDatabaseSettingsAsync() => SqliteDatabaseAsync();

    protected override void ConfigureSettings(Dictionary<string, string?> settings)
    {
        base.ConfigureSettings(settings);
        settings["Limits:ImportMaxBytes"] = "200000";
        settings.AddApiKey("crm-sync", WriterKey, Scopes.Read, Scopes.Write);
        settings.AddApiKey("reporting", ReaderKey, Scopes.Read);
    }

    private async Task<HttpResponseMessage> PostAsync(string body, string mediaType = "text/csv", string query = "", string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/customers/import" + query, UriKind.Relative))
        {
            Content = new StringContent(body, Encoding.UTF8, mediaType),
        };
        request.Headers.Add("X-Api-Key", key ?? WriterKey);
        return await Client.SendAsync(request);
    }

    [Fact]
    public async Task ACsvBodyIsImportedAndAnsweredWithTheCountsAndRejections()
    {
        var response = await PostAsync("name,email\nAda,ada@example.org\nBad,not-an-address\n");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = await response.ReadObjectAsync();
        Assert.Equal((2, 1, 1), ((int)result["read"]!, (int)result["created"]!, (int)result["rejected"]!));
        var rejection = result["rejections"]![0]!;
        Assert.Equal((3, "email"), ((int)rejection["line"]!, (string)rejection["field"]!));
        Assert.DoesNotContain("not-an-address", result.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(0, (int)result["rejections_omitted"]!);
        Assert.Equal(1, await ScalarAsync("SELECT COUNT(*) FROM customer_events WHERE actor = 'key:crm-sync'"));
    }

    [Fact]
    public async Task AnNdjsonBodyWithUpdateAndADryRunWritesNothing()
    {
        await PostAsync("name,email\nAda,ada@example.org\n");

        var response = await PostAsync("""{"name":"Ada L","email":"ada@example.org"}""" + "\n", "application/x-ndjson", "?on_conflict=update&dry_run=true");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = await response.ReadObjectAsync();
        Assert.Equal((1, true), ((int)result["updated"]!, (bool)result["dry_run"]!));
        Assert.Equal(["Ada"], await ColumnAsync("SELECT name FROM customers"));
    }

    [Fact]
    public async Task RejectionsAreListedUpToTheCapAndTheRestCounted()
    {
        var body = "name,email\n" + string.Concat(Enumerable.Range(0, 1200).Select(i => $"N{i},bad{i}\n"));

        var result = await (await PostAsync(body)).ReadObjectAsync();

        Assert.Equal(1200, (int)result["rejected"]!);
        Assert.Equal(1000, result["rejections"]!.AsArray().Count);
        Assert.Equal(200, (int)result["rejections_omitted"]!);
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("text/plain")]
    public async Task OtherMediaTypesAre415(string mediaType)
    {
        var response = await PostAsync("name,email\nA,a@example.org\n", mediaType);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal(0, await ScalarAsync("SELECT COUNT(*) FROM customers"));
    }

    [Fact]
    public async Task ABodyOverImportMaxBytesIs413AndWritesNothing()
    {
        var response = await PostAsync("name,email\n" + string.Concat(Enumerable.Range(0, 10_000).Select(i => $"Person {i},p{i}@example.org\n")));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(0, await ScalarAsync("SELECT COUNT(*) FROM customers"));
    }

    [Fact]
    public async Task ABodyOverTheGeneralLimitButUnderTheImportLimitIsImported()
    {
        var body = "name,email\n" + string.Concat(Enumerable.Range(0, 4_000).Select(i => $"Person {i},p{i}@example.org\n"));
        Assert.InRange(Encoding.UTF8.GetByteCount(body), 64 * 1024 + 1, 200_000);

        var response = await PostAsync(body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(4_000, await ScalarAsync("SELECT COUNT(*) FROM customers"));
    }

    [Theory]
    [InlineData("?on_conflict=replace", "on_conflict")]
    [InlineData("?dry_run=yes", "dry_run")]
    public async Task BadQueryValuesAre400NamingThem(string query, string field)
    {
        await AssertValidationAsync(await PostAsync("name,email\nA,a@example.org\n", query: query), field);
    }

    [Fact]
    public async Task AFileErrorIs422NamingTheLine()
    {
        var response = await PostAsync("name,email,shoe_size\nA,a@example.org,44\n");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = await response.ReadObjectAsync();
        Assert.Contains("line 1", (string?)problem["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task AConflictUnderFailIs409()
    {
        await PostAsync("name,email\nAda,ada@example.org\n");

        var response = await PostAsync("name,email\nNew,new@example.org\nAda,ADA@example.org\n", query: "?on_conflict=fail");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("line 3", (string?)(await response.ReadObjectAsync())["detail"], StringComparison.Ordinal);
        Assert.Equal(1, await ScalarAsync("SELECT COUNT(*) FROM customers"));
    }

    [Fact]
    public async Task ImportNeedsTheWriteScope()
    {
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync("name,email\nA,a@example.org\n", key: ReaderKey)).StatusCode);
        using var anonymous = new HttpRequestMessage(HttpMethod.Post, new Uri("/customers/import", UriKind.Relative)) { Content = new StringContent("name,email\n", Encoding.UTF8, "text/csv") };
        Assert.Equal(HttpStatusCode.Unauthorized, (await Client.SendAsync(anonymous)).StatusCode);
        Assert.Equal(0, await ScalarAsync("SELECT COUNT(*) FROM customers"));
    }

    [Theory]
    [InlineData("\"")]
    [InlineData("\0\0\0")]
    [InlineData("name,email\n\"a\"b\"c,\"")]
    [InlineData("\uFEFF")]
    public async Task NoBodyGetsA5xx(string body)
    {
        var response = await PostAsync(body);

        Assert.True((int)response.StatusCode < 500, $"{(int)response.StatusCode}");
    }
}
