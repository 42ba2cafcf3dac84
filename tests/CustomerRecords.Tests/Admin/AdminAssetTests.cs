using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using CustomerRecords.Api.Admin;
using CustomerRecords.Api.Auth;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerRecords.Tests.Admin;

/// <summary>The page's shell and files: served anonymously from the assembly, cached by ETag, loading nothing from elsewhere.</summary>
public sealed partial class AdminAssetTests
{
    [Theory]
    [InlineData("/admin")]
    [InlineData("/admin/")]
    [InlineData("/admin/callback?code=abc&state=xyz")]
    public async Task ShellIsServedAnonymouslyWhenAuthenticationIsConfigured(string path)
    {
        await using var factory = AdminHost.Keys(ApiKeyHash.GenerateKey(), ApiKeyHash.GenerateKey());
        using var client = factory.CreateClient();

        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.CacheControl?.NoStore);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("<script type=\"module\" src=\"/admin/app.js\"></script>", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/admin/")]
    [InlineData("/admin/app.js")]
    public async Task HeadIsAnsweredAnonymouslyLikeGet(string path)
    {
        await using var factory = AdminHost.Keys(ApiKeyHash.GenerateKey(), ApiKeyHash.GenerateKey());
        using var client = factory.CreateClient();

        using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));
        using var get = await client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        Assert.Equal(get.Content.Headers.ContentType, head.Content.Headers.ContentType);
        Assert.Equal(get.Headers.ETag, head.Headers.ETag);
        Assert.Equal(get.Headers.CacheControl, head.Headers.CacheControl);
        Assert.Equal(get.Headers.GetValues("Content-Security-Policy"), head.Headers.GetValues("Content-Security-Policy"));
    }

    [Theory]
    [InlineData("app.js", "text/javascript")]
    [InlineData("session.js", "text/javascript")]
    [InlineData("dom.js", "text/javascript")]
    [InlineData("admin.css", "text/css")]
    [InlineData("favicon.svg", "image/svg+xml")]
    public async Task FilesAreServedAnonymouslyAndRevalidatedByETag(string file, string mediaType)
    {
        await using var factory = AdminHost.Keys(ApiKeyHash.GenerateKey(), ApiKeyHash.GenerateKey());
        using var client = factory.CreateClient();

        using var first = await client.GetAsync(new Uri("/admin/" + file, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(mediaType, first.Content.Headers.ContentType?.MediaType);
        Assert.True(first.Headers.CacheControl?.NoCache);
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);
        Assert.False(etag.IsWeak);

        using var again = new HttpRequestMessage(HttpMethod.Get, "/admin/" + file);
        again.Headers.IfNoneMatch.Add(etag);
        using var second = await client.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
        Assert.Empty(await second.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("/admin/missing.js")]
    [InlineData("/admin/APP.JS")]
    [InlineData("/admin/index.html")]
    public async Task UnknownFileIsANotFoundProblem(string path)
    {
        await using var factory = AdminHost.Keys(ApiKeyHash.GenerateKey(), ApiKeyHash.GenerateKey());
        using var client = factory.CreateClient();

        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task EveryFileTheShellNamesIsServed()
    {
        await using var factory = AdminHost.Open();
        using var client = factory.CreateClient();
        var html = await client.GetStringAsync(new Uri("/admin/", UriKind.Relative));
        var assets = factory.Services.GetRequiredService<AdminAssets>();
        var imports = assets.Paths.Where(p => p.EndsWith(".js", StringComparison.Ordinal))
            .SelectMany(p => ImportRegex().Matches(Text(assets, p)).Select(m => "/admin/" + m.Groups["file"].Value));

        var named = ReferenceRegex().Matches(html).Select(m => m.Groups["url"].Value).Concat(imports).Distinct().ToList();

        Assert.Contains("/admin/app.js", named);
        Assert.Contains("/admin/session.js", named);
        foreach (var url in named)
        {
            using var response = await client.GetAsync(new Uri(url, UriKind.Relative));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url} answered {(int)response.StatusCode}");
        }
    }

    /// <summary>
    /// The CSP allows no inline code, no style attributes and no other origin; this reads the files the binary
    /// carries for anything the browser would then refuse (or that would load from elsewhere).
    /// </summary>
    [Fact]
    public void NoFileReferencesAnotherOriginOrNeedsInlineCode()
    {
        var assets = new AdminAssets();
        Assert.Contains("index.html", assets.Paths);
        var problems = new List<string>();
        foreach (var path in assets.Paths)
        {
            var text = Text(assets, path);
            // The SVG namespace is a name, not a load.
            var urls = UrlRegex().Matches(text).Select(m => m.Value).Where(u => u != "http://www.w3.org/2000/svg");
            problems.AddRange(urls.Select(u => $"{path}: names another origin ({u})"));
            if (path.EndsWith(".html", StringComparison.Ordinal) || path.EndsWith(".svg", StringComparison.Ordinal))
            {
                if (InlineScriptRegex().IsMatch(text))
                {
                    problems.Add($"{path}: inline <script>");
                }

                if (StyleElementRegex().IsMatch(text) || StyleAttributeRegex().IsMatch(text))
                {
                    problems.Add($"{path}: inline style");
                }

                if (HandlerAttributeRegex().IsMatch(text))
                {
                    problems.Add($"{path}: on* handler attribute");
                }
            }

            if (path.EndsWith(".js", StringComparison.Ordinal))
            {
                foreach (var sink in new[] { "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", ".style.", "setAttribute('style'", "javascript:" })
                {
                    if (text.Contains(sink, StringComparison.Ordinal))
                    {
                        problems.Add($"{path}: uses {sink}");
                    }
                }
            }

            if (path.EndsWith(".css", StringComparison.Ordinal) && (text.Contains("@import", StringComparison.Ordinal) || text.Contains("url(", StringComparison.Ordinal)))
            {
                problems.Add($"{path}: loads from CSS");
            }
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    private static string Text(AdminAssets assets, string path) => Encoding.UTF8.GetString(assets.Find(path)!.Content);

    [GeneratedRegex(@"(?:src|href)=""(?<url>/admin/[^""]+)""")]
    private static partial Regex ReferenceRegex();

    [GeneratedRegex(@"from '\./(?<file>[a-z0-9-]+\.js)'")]
    private static partial Regex ImportRegex();

    [GeneratedRegex(@"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s""')]*", RegexOptions.IgnoreCase)]
    private static partial Regex UrlRegex();

    [GeneratedRegex(@"<script(?![^>]*\bsrc=)[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex InlineScriptRegex();

    [GeneratedRegex(@"<style[\s>]", RegexOptions.IgnoreCase)]
    private static partial Regex StyleElementRegex();

    [GeneratedRegex(@"\sstyle\s*=", RegexOptions.IgnoreCase)]
    private static partial Regex StyleAttributeRegex();

    [GeneratedRegex(@"\son[a-z]+\s*=", RegexOptions.IgnoreCase)]
    private static partial Regex HandlerAttributeRegex();
}
