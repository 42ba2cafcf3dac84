using System.Net;
using System.Text.Json.Nodes;
using CustomerRecords.Api.Auth;
using CustomerRecords.Tests.Cli;
using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.Bulk;

/// <summary>
/// <c>export</c> as an operator runs it (the service's binary, a SQLite file with the three sample customers): data
/// alone on standard output or in the <c>--out</c> file, the summary on standard error, and exit codes 0 / 1 / 2.
/// </summary>
public sealed class ExportCommandTests : IDisposable
{
    private readonly SqliteTempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private string Database => $"--ConnectionStrings:Customers=Data Source={Path.Combine(_directory.Path, "customers.db")}";

    private async Task MigrateAsync()
    {
        var run = await ServiceBinary.RunAsync(_directory.Path, ["migrate", Database]);
        Assert.True(run.ExitCode == 0, run.ToString());
    }

    [Fact]
    public async Task ExportWritesCsvToStandardOutputAndTheSummaryToStandardError()
    {
        await MigrateAsync();

        var run = await ServiceBinary.RunAsync(_directory.Path, ["export", "--format", "csv", Database]);

        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = run.Out.Split("\r\n");
        Assert.Equal("id,name,email,phone,created_at,updated_at,version", lines[0]);
        Assert.StartsWith("1,John Doe,john.doe@example.com,+1-555-0123,", lines[1], StringComparison.Ordinal);
        Assert.Equal(5, lines.Length); // header, three customers, and the empty rest after the last CRLF
        Assert.Equal("", lines[^1]);
        Assert.Contains("export: 3 rows, ", run.Error, StringComparison.Ordinal);
        Assert.Contains(" to standard output", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExportToAFileTakesTheFormatFromItsNameAndLeavesNoTemporaryFile()
    {
        await MigrateAsync();
        var file = Path.Combine(_directory.Path, "out", "customers.ndjson");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllTextAsync(file, "an older export");

        var run = await ServiceBinary.RunAsync(_directory.Path, ["export", "--out", file, "--updated-since", "2000-01-01T00:00:00Z", Database]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("", run.Out);
        var lines = (await File.ReadAllTextAsync(file)).Split('\n');
        Assert.Equal(["John Doe", "Jane Smith", "Bob Johnson"], lines.SkipLast(1).Select(l => (string)JsonNode.Parse(l)!["name"]!));
        Assert.Equal(["customers.ndjson"], Directory.GetFiles(Path.GetDirectoryName(file)!).Select(Path.GetFileName));
        Assert.Contains($"export: 3 rows, ", run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--format", "xml")]
    [InlineData("--updated-since", "yesterday")]
    [InlineData("--frobnicate")]
    public async Task ABadOptionIsAUsageError(params string[] args)
    {
        var run = await ServiceBinary.RunAsync(_directory.Path, ["export", .. args, Database]);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Equal("", run.Out);
        Assert.Contains("Usage:", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnExportThatFailsIsOneMessageWithoutAStackTraceAndLeavesNoFile()
    {
        // A database without the schema: the command does not migrate (an export changes nothing).
        var file = Path.Combine(_directory.Path, "customers.csv");

        var run = await ServiceBinary.RunAsync(_directory.Path, ["export", "--out", file, Database]);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Equal("", run.Out);
        Assert.Contains("Export failed", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_directory.Path, "*.csv*").Concat(Directory.GetFiles(_directory.Path, ".customers.csv*")));
    }
}

/// <summary><c>GET /customers/export</c> is a read: scope <see cref="Scopes.Read"/>, and rate-limited like every request.</summary>
public sealed class ExportApiAccessTests
{
    [Fact]
    public async Task TheExportNeedsCredentialsWithTheReadScope()
    {
        var readerKey = ApiKeyHash.GenerateKey();
        var writerOnlyKey = ApiKeyHash.GenerateKey();
        var settings = CustomerApiFactory.SqliteSettings(TempDirectory.ForRun());
        settings.AddApiKey("reporting", readerKey, Scopes.Read);
        settings.AddApiKey("writer", writerOnlyKey, Scopes.Write);
        await using var factory = new CustomerApiFactory(settings);
        using var client = factory.CreateClient();

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync(new Uri("/customers/export", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(client, writerOnlyKey)).StatusCode);
        var allowed = await Send(client, readerKey);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal(3, (await allowed.Content.ReadAsStringAsync()).Split('\n').SkipLast(1).Count());
    }

    [Fact]
    public async Task TheExportIsRateLimited()
    {
        var settings = CustomerApiFactory.SqliteSettings(TempDirectory.ForRun());
        settings["RateLimit:PermitLimit"] = "1";
        settings["RateLimit:Window"] = "00:10:00";
        await using var factory = new CustomerApiFactory(settings);
        using var client = factory.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/customers/export", UriKind.Relative))).StatusCode);
        var refused = await client.GetAsync(new Uri("/customers/export", UriKind.Relative));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
    }

    private static async Task<HttpResponseMessage> Send(HttpClient client, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/customers/export");
        request.Headers.Add("X-Api-Key", key);
        return await client.SendAsync(request);
    }
}
