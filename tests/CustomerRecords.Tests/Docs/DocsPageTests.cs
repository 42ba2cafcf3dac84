using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.Docs;

/// <summary>
/// The /docs page loads everything from this origin and shows no toolbar pointing at outside services:
/// its HTML, its configuration and its loader script name no other origin, the configuration turns off
/// Scalar's font CDN, telemetry, AI agent, MCP server, hosted client and developer toolbar, and the
/// page's Content-Security-Policy allows no other origin either.
/// </summary>
public sealed partial class DocsPageTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private CustomerApiFactory _factory = null!;
    private HttpClient _client = null!;

    public Task InitializeAsync()
    {
        _factory = new CustomerApiFactory(CustomerApiFactory.SqliteSettings(_directory.Path));
        _client = _factory.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }

    [Fact]
    public async Task ThePageAndItsConfigurationNameNoOtherOrigin()
    {
        var response = await _client.GetAsync(new Uri("/docs/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();

        Assert.DoesNotMatch(OtherOrigin(), html);
        foreach (Match script in ScriptSource().Matches(html))
        {
            var src = script.Groups[1].Value;
            Assert.False(src.Contains("//", StringComparison.Ordinal), $"script {src} is not from this origin");
            var loaded = await _client.GetAsync(new Uri(new Uri("http://localhost/docs/"), src));
            Assert.Equal(HttpStatusCode.OK, loaded.StatusCode);
            if (!src.EndsWith("scalar.js", StringComparison.Ordinal) || src.Contains("aspnetcore", StringComparison.Ordinal))
            {
                // The integration's loader (the bundle itself quotes documentation links it never fetches; the CSP below binds it).
                Assert.DoesNotMatch(OtherOrigin(), await loaded.Content.ReadAsStringAsync());
            }
        }

        var configuration = Configuration(html);
        Assert.False((bool?)configuration["withDefaultFonts"], "fonts would come from fonts.scalar.com");
        Assert.False((bool?)configuration["telemetry"]);
        Assert.True((bool?)configuration["hideClientButton"]);
        Assert.Equal("never", (string?)configuration["showDeveloperTools"]);
        Assert.True((bool?)configuration["agent"]?["disabled"], "the Ask AI agent would call Scalar's service");
        Assert.True((bool?)configuration["mcp"]?["disabled"]);
        Assert.Null(configuration["proxyUrl"]);
        Assert.DoesNotContain("scalar.com", configuration.ToJsonString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task TheContentSecurityPolicyAllowsNoOtherOrigin()
    {
        var response = await _client.GetAsync(new Uri("/docs/", UriKind.Relative));
        var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        foreach (var directive in csp.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var source in directive.Split(' ').Skip(1))
            {
                Assert.True(source is "'self'" or "'none'" or "'unsafe-inline'" or "data:" or "blob:", $"CSP '{directive}' allows {source}");
            }
        }
    }

    /// <summary>The JSON configuration the page passes to Scalar's <c>initialize(path, dynamicBaseUrl, configuration, module)</c>.</summary>
    private static JsonObject Configuration(string html)
    {
        var start = html.IndexOf("initialize(", StringComparison.Ordinal);
        Assert.True(start >= 0, "no initialize( call in the page");
        var open = html.IndexOf('{', start);
        var depth = 0;
        for (var i = open; i < html.Length; i++)
        {
            depth += html[i] switch { '{' => 1, '}' => -1, _ => 0 };
            if (depth == 0)
            {
                return JsonNode.Parse(html[open..(i + 1)])!.AsObject();
            }
        }

        throw new InvalidOperationException("unbalanced configuration");
    }

    [GeneratedRegex(@"(?i)\b(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}")]
    private static partial Regex OtherOrigin();

    [GeneratedRegex("<script[^>]*\\bsrc=\"([^\"]+)\"")]
    private static partial Regex ScriptSource();
}
