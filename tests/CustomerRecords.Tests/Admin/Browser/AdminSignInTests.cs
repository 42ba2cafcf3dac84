using System.Globalization;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace CustomerRecords.Tests.Admin.Browser;

/// <summary>
/// Sign-in and what a sign-in may see, in Chromium against the real app over SQLite (the engine plays no part): an API
/// key, OIDC at the loopback test issuer (authorization code + PKCE), open mode, and a read-only key that gets no way
/// to write. One server with keys and OIDC for the class.
/// </summary>
[Collection(AdminBrowserCollection.Name)]
public sealed class AdminSignInTests(BrowserFixture browser) : AdminPageTest(browser)
{
    private AdminServer _server = null!;

    public override async Task InitializeAsync() =>
        _server = await Browser.SharedServerAsync(nameof(AdminSignInTests), () =>
            AdminServer.StartWithIssuerAsync(CustomerApiFactory.SqliteSettings(TempDirectory.ForRun())));

    // Tests set the issuer's next scope and subject; the collection runs its tests one at a time, so no two overlap.
    private TestIssuer Issuer => _server.Issuer!;

    [Fact]
    public Task AnApiKeySignsInAndAWrongOneIsRefusedUnderTheBox() => RunAsync(async () =>
    {
        var page = await OpenAsync(_server);
        await Expect(Heading(page, "Sign in")).ToBeVisibleAsync();
        await page.AssertAccessibleAsync("Sign in");

        await SignInWithKeyAsync(page, "not-a-key-of-this-service");
        var box = page.GetByLabel("API key", new() { Exact = true });
        await Expect(box).ToHaveAttributeAsync("aria-invalid", "true");
        var describedBy = (await box.GetAttributeAsync("aria-describedby"))!.Split(' ');
        await Expect(page.Locator($"[id='{describedBy.Last()}']")).Not.ToBeEmptyAsync();
        await page.AssertAccessibleAsync("Sign in (refused key)");

        await box.FillAsync(AdminServer.WriterKey);
        await Button(page, "Sign in with API key").ClickAsync();
        await Expect(Heading(page, "Find customers")).ToBeVisibleAsync();
        await Expect(page.GetByText("Signed in as key:writer")).ToBeVisibleAsync();
        await Expect(Link(page, "New customer")).ToBeVisibleAsync();
        Assert.Empty(await page.Context.CookiesAsync());

        await Button(page, "Sign out").ClickAsync();
        await Expect(Heading(page, "Sign in")).ToBeVisibleAsync();
        Assert.Null(await page.EvaluateAsync<string?>("() => sessionStorage.getItem('customer-records-admin:credential')"));
    });

    [Fact]
    public Task SingleSignOnAtTheIssuerUsesAuthorizationCodeWithPkce() => RunAsync(async () =>
    {
        var subject = "staff-" + UniqueDigits();
        Issuer.Subject = subject;
        Issuer.Scope = "customers:read customers:write";
        var issued = Issuer.TokensIssued;
        var page = await OpenAsync(_server);

        await Button(page, "Sign in with single sign-on").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Test issuer" })).ToBeVisibleAsync();
        var authorize = new Uri(page.Url);
        Assert.Equal(Issuer.Issuer + "/authorize", authorize.GetLeftPart(UriPartial.Path));
        Assert.Contains("code_challenge_method=S256", authorize.Query, StringComparison.Ordinal);
        await Button(page, "Sign in").ClickAsync();

        await Expect(Heading(page, "Find customers")).ToBeVisibleAsync();
        await Expect(page.GetByText($"Signed in as user:{subject}")).ToBeVisibleAsync();
        await Expect(Link(page, "New customer")).ToBeVisibleAsync();
        Assert.Equal(issued + 1, Issuer.TokensIssued);
        // The callback's code and state are not left in the address bar.
        Assert.DoesNotContain("code=", page.Url, StringComparison.Ordinal);

        // The token works for the API: a search answers.
        await SearchAsync(page, UniqueSurname());
        await Expect(page.GetByRole(AriaRole.Region, new() { Name = "Results" }).GetByText("No customers match.")).ToBeVisibleAsync();
    });

    [Fact]
    public Task ACallbackWithAnotherStateDoesNotSignIn() => RunAsync(async () =>
    {
        var issued = Issuer.TokensIssued;
        var page = await OpenAsync(_server);
        await Button(page, "Sign in with single sign-on").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Test issuer" })).ToBeVisibleAsync();

        // As if another site sent the browser to the callback with a code of its own.
        await page.GotoAsync(new Uri(_server.Address, "/admin/callback?code=forged-code&state=forged-state").ToString());

        await Expect(Heading(page, "Sign in")).ToBeVisibleAsync();
        await Expect(page.GetByText("Sign-in failed")).ToBeVisibleAsync();
        await Expect(page.GetByText("Signed in as", new() { Exact = false })).ToHaveCountAsync(0);
        Assert.Equal(issued, Issuer.TokensIssued);
        await page.AssertAccessibleAsync("Sign in (failed callback)");

        // An error callback with another state puts none of its text on the page: anyone can write such a link.
        await page.GotoAsync(new Uri(_server.Address, "/admin/callback?error=access_denied&error_description=INJECTED-TEXT&state=forged-state").ToString());
        await Expect(page.GetByText("Sign-in failed")).ToBeVisibleAsync();
        await Expect(page.GetByText("INJECTED-TEXT", new() { Exact = false })).ToHaveCountAsync(0);
        await Expect(page.GetByText("access_denied", new() { Exact = false })).ToHaveCountAsync(0);
    });

    [Fact]
    public Task SingleSignOnWithReadScopeOnlyOffersNoWrites() => RunAsync(async () =>
    {
        Issuer.Subject = "reader-" + UniqueDigits();
        Issuer.Scope = "customers:read";
        var page = await OpenAsync(_server);
        await Button(page, "Sign in with single sign-on").ClickAsync();
        await Button(page, "Sign in").ClickAsync();
        await Expect(Heading(page, "Find customers")).ToBeVisibleAsync();

        await Expect(Link(page, "New customer")).ToBeHiddenAsync();
        await page.GotoAsync(_server.AdminUrl + "#/customers/new");
        await Expect(Heading(page, "Forbidden")).ToBeVisibleAsync();
    });

    [Fact]
    public Task AReadOnlyKeySeesNoWriteControlsAndNoWriteRoute() => RunAsync(async () =>
    {
        var surname = UniqueSurname();
        var id = await _server.CreateAsync($"{surname} Read", $"read.{surname.ToLowerInvariant()}@example.com");
        var page = await SignedInAsync(_server, AdminServer.ReaderKey);
        await Expect(Link(page, "New customer")).ToBeHiddenAsync();
        await Expect(Link(page, "Recently deleted")).ToBeHiddenAsync();

        await page.GotoAsync(_server.AdminUrl + $"#/customers/{id}");
        await Expect(Heading(page, $"{surname} Read")).ToBeVisibleAsync();
        await Expect(Link(page, "History")).ToBeVisibleAsync();
        await Expect(Button(page, "Export JSON")).ToBeVisibleAsync();
        await Expect(Link(page, "Edit")).ToHaveCountAsync(0);
        await Expect(Button(page, "Delete")).ToHaveCountAsync(0);
        await Expect(Button(page, "Erase")).ToHaveCountAsync(0);

        foreach (var route in new[] { $"#/customers/{id}/edit", "#/customers/new", "#/deleted" })
        {
            await page.GotoAsync(_server.AdminUrl + route);
            await Expect(Heading(page, "Forbidden")).ToBeVisibleAsync();
            await Expect(Button(page, "Save changes")).ToHaveCountAsync(0);
            await Expect(Button(page, "Create customer")).ToHaveCountAsync(0);
        }

        await page.AssertAccessibleAsync("Forbidden");
        // Even a write the page would make refuses: the API decides, not the page.
        var status = await page.EvaluateAsync<int>(
            """
            async (id) => {
              const { value } = JSON.parse(sessionStorage.getItem('customer-records-admin:credential'));
              const r = await fetch(`/customers/${id}`, { method: 'DELETE', headers: { 'X-Api-Key': value } });
              return r.status;
            }
            """, id);
        Assert.Equal(403, status);
        var held = (await _server.GetAsync(id))!;
        Assert.Equal(1, (int)held["version"]!);
    });

    [Fact]
    public Task AnUnknownRouteSaysPageNotFound() => RunAsync(async () =>
    {
        var page = await SignedInAsync(_server, AdminServer.ReaderKey);
        await page.GotoAsync(_server.AdminUrl + "#/nowhere");
        await Expect(Heading(page, "Page not found")).ToBeVisibleAsync();
        await page.AssertAccessibleAsync("Page not found");
        await Link(page, "Go to Find").ClickAsync();
        await Expect(Heading(page, "Find customers")).ToBeVisibleAsync();
    });

    [Fact]
    public Task OpenModeShowsTheBannerAndNeedsNoSignIn() => RunAsync(async () =>
    {
        await using var open = AdminServer.Start(CustomerApiFactory.SqliteSettings(TempDirectory.ForRun()));
        var page = await OpenAsync(open);

        await Expect(Heading(page, "Find customers")).ToBeVisibleAsync();
        await Expect(page.GetByText("Open mode: no sign-in — this service accepts anyone who can reach it (loopback only).")).ToBeVisibleAsync();
        await Expect(page.GetByText("Open mode", new() { Exact = true })).ToBeVisibleAsync();
        await Expect(Button(page, "Sign out")).ToBeHiddenAsync();
        await page.AssertAccessibleAsync("Find (open mode)");
        var id = await open.CreateAsync("Open Example", "open@example.com");
        await page.GotoAsync(open.AdminUrl + $"#/customers/{id.ToString(CultureInfo.InvariantCulture)}");
        await Expect(Heading(page, "Open Example")).ToBeVisibleAsync();
    });
}
