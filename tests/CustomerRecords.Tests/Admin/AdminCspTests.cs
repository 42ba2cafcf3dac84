using System.Net;
using CustomerRecords.Api.Auth;
using CustomerRecords.Api.Hosting;

namespace CustomerRecords.Tests.Admin;

/// <summary>The admin page's Content-Security-Policy: this origin only (plus the OIDC token endpoint's), no inline code.</summary>
public sealed class AdminCspTests
{
    private static readonly string[] Keywords = ["'self'", "'none'", "'script'"];

    [Theory]
    [InlineData("/admin")]
    [InlineData("/admin/")]
    [InlineData("/admin/app.js")]
    [InlineData("/admin/config")]
    public async Task AdminCspAllowsOnlyThisOriginAndNoInlineCode(string path)
    {
        await using var factory = AdminHost.Open();
        using var client = factory.CreateClient();

        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));

        var csp = Csp(response);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
        Assert.Empty(Origins(csp));
        Assert.Equal("'self'", Directive(csp, "script-src"));
        Assert.Equal("'self'", Directive(csp, "style-src"));
        Assert.Equal("'self'", Directive(csp, "connect-src"));
        Assert.Equal("'none'", Directive(csp, "default-src"));
        Assert.Equal("'none'", Directive(csp, "frame-ancestors"));
        Assert.Equal("'script'", Directive(csp, "require-trusted-types-for"));
    }

    [Fact]
    public async Task WithOidcTheShellMayAlsoConnectToTheTokenEndpointOriginAndNothingElse()
    {
        await using var factory = AdminHost.Oidc(ApiKeyHash.GenerateKey(), new Dictionary<string, string?> { ["Auth:Admin:ClientId"] = AdminHost.PageClientId });
        using var client = factory.CreateClient();

        using var response = await client.GetAsync(new Uri("/admin/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var csp = Csp(response);
        Assert.Equal("'self' https://login.issuer.test", Directive(csp, "connect-src"));
        Assert.Equal(["https://login.issuer.test"], Origins(csp));
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithJwtButNoPageClientTheShellConnectsToThisOriginOnly()
    {
        await using var factory = AdminHost.Oidc(ApiKeyHash.GenerateKey(), new Dictionary<string, string?>());
        using var client = factory.CreateClient();

        using var response = await client.GetAsync(new Uri("/admin/", UriKind.Relative));

        Assert.Equal("'self'", Directive(Csp(response), "connect-src"));
    }

    [Theory]
    [InlineData("/health/live")]
    [InlineData("/customers")]
    [InlineData("/administrator")]
    public async Task OtherRoutesKeepTheApiCsp(string path)
    {
        await using var factory = AdminHost.Open();
        using var client = factory.CreateClient();

        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(SecurityHeadersMiddleware.ApiCsp, Csp(response));
    }

    private static string Csp(HttpResponseMessage response) => string.Join(";", response.Headers.GetValues("Content-Security-Policy"));

    private static string? Directive(string csp, string name) => csp.Split(';', StringSplitOptions.TrimEntries)
        .Select(d => d.Split(' ', 2))
        .Where(parts => parts[0] == name)
        .Select(parts => parts.Length > 1 ? parts[1] : "")
        .SingleOrDefault();

    /// <summary>Every source in the policy that is not a keyword: a scheme, host or origin the page could load from.</summary>
    private static string[] Origins(string csp) => csp.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
        .SelectMany(d => d.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1))
        .Where(source => !Keywords.Contains(source))
        .Where(source => source != "'none'")
        .Distinct()
        .ToArray();
}
