using CustomerRecords.Tests.Infrastructure;
using Microsoft.Playwright;

namespace CustomerRecords.Tests.Admin.Browser;

/// <summary>The browser fixture against pages the service serves anyway: Chromium, the Kestrel host and the test issuer work.</summary>
[Collection(AdminBrowserCollection.Name)]
public sealed class BrowserSmokeTests(BrowserFixture browser)
{
    [Fact]
    public async Task ChromiumLoadsTheDocsPageFromTheKestrelHost()
    {
        await using var server = AdminServer.Start(CustomerApiFactory.SqliteSettings(TempDirectory.ForRun()));
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync();

        var response = await page.GotoAsync(new Uri(server.Address, "/docs/").ToString());

        Assert.NotNull(response);
        Assert.Equal(200, response.Status);
        Assert.StartsWith(server.Address.ToString(), page.Url, StringComparison.Ordinal);
        Assert.Contains("CustomerRecords", await page.TitleAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task EachContextHasItsOwnSessionStorage()
    {
        await using var server = AdminServer.Start(CustomerApiFactory.SqliteSettings(TempDirectory.ForRun()));
        var url = new Uri(server.Address, "/docs/").ToString();
        await using var first = await browser.NewContextAsync();
        var one = await first.NewPageAsync();
        await one.GotoAsync(url);
        await one.EvaluateAsync("() => sessionStorage.setItem('probe', 'first')");

        await using var second = await browser.NewContextAsync();
        var two = await second.NewPageAsync();
        await two.GotoAsync(url);

        Assert.Equal("first", await one.EvaluateAsync<string?>("() => sessionStorage.getItem('probe')"));
        Assert.Null(await two.EvaluateAsync<string?>("() => sessionStorage.getItem('probe')"));
    }
}
