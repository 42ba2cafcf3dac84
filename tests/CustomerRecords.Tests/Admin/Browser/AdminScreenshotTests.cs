using CustomerRecords.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace CustomerRecords.Tests.Admin.Browser;

/// <summary>
/// The pictures of docs/admin.md: the main views at 1280x800 (and Find at phone width, 390x844) over a server of its
/// own holding only made-up customers at example domains. Saved into the output folder's <c>screenshots/</c>; with
/// <c>CRTEST_UPDATE_SCREENSHOTS=1</c> also into docs/admin/ of the repository.
/// </summary>
[Collection(AdminBrowserCollection.Name)]
public sealed class AdminScreenshotTests(BrowserFixture browser) : AdminPageTest(browser)
{
    private static readonly (string Name, string Email, string? Phone)[] People =
    [
        ("Ann Example", "ann@example.com", "+1 555 0100"),
        ("Bob Example", "bob@example.org", "+1 555 0101"),
        ("Chloé Example", "chloe@example.net", null),
        ("David Example", "david@example.com", "+44 20 7946 0958"),
        ("Erin Example", "erin@example.org", "+1 555 0104"),
        ("Frank Example", "frank@example.net", "+1 555 0105"),
    ];

    private static readonly string[] Pictures = ["signin", "search", "search-phone", "customer", "edit-conflict", "history", "deleted"];

    [Fact]
    public Task TheMainViewsArePhotographed() => RunAsync(async () =>
    {
        await using var server = await AdminServer.StartWithIssuerAsync(CustomerApiFactory.SqliteSettings(TempDirectory.ForRun()));
        var ids = new Dictionary<string, int>();
        foreach (var (name, email, phone) in People)
        {
            ids[name] = await server.CreateAsync(name, email, phone);
        }

        var signIn = await OpenAsync(server);
        await Expect(Heading(signIn, "Sign in")).ToBeVisibleAsync();
        await Screenshots.SaveAsync(signIn, "signin.png");

        var page = await SignedInAsync(server, AdminServer.WriterKey);
        await SearchAsync(page, "");
        await Expect(Link(page, "Frank Example")).ToBeVisibleAsync();
        await Screenshots.SaveAsync(page, "search.png");

        var narrow = await SignedInAsync(server, AdminServer.WriterKey, BrowserFixture.Phone);
        await SearchAsync(narrow, "");
        await Expect(Link(narrow, "Frank Example")).ToBeVisibleAsync();
        await narrow.AssertAccessibleAsync("Find (phone width)");
        await Screenshots.SaveAsync(narrow, "search-phone.png");

        await Link(page, "Ann Example").ClickAsync();
        await Expect(Heading(page, "Ann Example")).ToBeVisibleAsync();
        await Screenshots.SaveAsync(page, "customer.png");

        // Erin: another session saves first, so this one sees the conflict.
        var erin = ids["Erin Example"];
        await page.GotoAsync(server.AdminUrl + $"#/customers/{erin}/edit");
        await Expect(Heading(page, "Edit Erin Example")).ToBeVisibleAsync();
        var other = await SignedInAsync(server, AdminServer.EraserKey);
        await other.GotoAsync(server.AdminUrl + $"#/customers/{erin}/edit");
        await other.GetByLabel("Email", new() { Exact = true }).FillAsync("erin.new@example.org");
        await Button(other, "Save changes").ClickAsync();
        await Expect(Heading(other, "Erin Example")).ToBeVisibleAsync();
        await page.GetByLabel("Phone", new() { Exact = true }).FillAsync("+1 555 0199");
        await Button(page, "Save changes").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Changed since you opened it" })).ToBeVisibleAsync();
        await Screenshots.SaveAsync(page, "edit-conflict.png");

        await Button(page, "Reload").ClickAsync();
        await page.GetByLabel("Phone", new() { Exact = true }).FillAsync("+1 555 0199");
        await Button(page, "Save changes").ClickAsync();
        await Expect(Heading(page, "Erin Example")).ToBeVisibleAsync();
        await Link(page, "History").ClickAsync();
        await Expect(page.Locator("main li")).ToHaveCountAsync(3);
        await Screenshots.SaveAsync(page, "history.png");

        await page.GotoAsync(server.AdminUrl + $"#/customers/{ids["Frank Example"]}");
        await Button(page, "Delete").ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Delete customer" }).ClickAsync();
        await Expect(Status(page)).ToContainTextAsync("deleted.");
        await Link(page, "Recently deleted").ClickAsync();
        await Expect(Button(page, "Restore Frank Example")).ToBeVisibleAsync();
        await Screenshots.SaveAsync(page, "deleted.png");

        foreach (var name in Pictures)
        {
            Assert.True(new FileInfo(Path.Combine(AppContext.BaseDirectory, "screenshots", name + ".png")).Length > 1000, name);
        }
    });
}
