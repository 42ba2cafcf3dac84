using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace CustomerRecords.Tests.Admin.Browser;

/// <summary>
/// The admin page's flows where the database engine matters (search, paging, edits and their conflicts, delete, restore,
/// history, export, erase), in Chromium against the real app; each engine runs them through a subclass. One server per
/// class (seeded by each test with its own unique customers); axe checks each view a flow passes through.
/// </summary>
public abstract class AdminPageContract(BrowserFixture browser) : AdminPageTest(browser)
{
    protected AdminServer Server { get; private set; } = null!;

    /// <summary>Settings of a fresh, empty database for this class's server.</summary>
    protected abstract Task<Dictionary<string, string?>> NewDatabaseSettingsAsync();

    public override async Task InitializeAsync() =>
        Server = await Browser.SharedServerAsync(GetType().FullName!, async () => AdminServer.Start(AdminServer.KeySettings(await NewDatabaseSettingsAsync())));

    [Fact]
    public Task SearchFindsCustomersByNameAndByEmail() => RunAsync(async () =>
    {
        var surname = UniqueSurname();
        var ann = await Server.CreateAsync($"{surname} Ann", $"ann.{surname.ToLowerInvariant()}@example.com");
        await Server.CreateAsync($"{surname} Bob", $"bob.{surname.ToLowerInvariant()}@example.org");
        var page = await SignedInAsync(Server, AdminServer.ReaderKey);

        await SearchAsync(page, surname.ToLowerInvariant());
        await Expect(ResultRows(page)).ToHaveCountAsync(2);
        await Expect(ResultRows(page).First).ToContainTextAsync($"{surname} Ann");
        await page.AssertAccessibleAsync("Find (results)");

        await SearchAsync(page, $"ANN.{surname}@");
        await Expect(ResultRows(page)).ToHaveCountAsync(1);
        await Expect(ResultRows(page).First).ToContainTextAsync($"ann.{surname.ToLowerInvariant()}@example.com");

        await SearchAsync(page, surname + "nobody");
        await Expect(page.GetByRole(AriaRole.Region, new() { Name = "Results" }).GetByText("No customers match.")).ToBeVisibleAsync();

        await SearchAsync(page, $"{surname} Ann");
        await Link(page, $"{surname} Ann").ClickAsync();
        await Expect(Heading(page, $"{surname} Ann")).ToBeVisibleAsync();
        Assert.EndsWith($"#/customers/{ann}", page.Url, StringComparison.Ordinal);
        await page.AssertAccessibleAsync("Customer");
    });

    [Fact]
    public Task SearchByPunctuatedPhoneFindsTheCustomer() => RunAsync(async () =>
    {
        var surname = UniqueSurname();
        var digits = UniqueDigits();
        await Server.CreateAsync($"{surname} Phone", $"phone.{surname.ToLowerInvariant()}@example.com", $"+1 555 {digits}");
        await Server.CreateAsync($"{surname} Other", $"other.{surname.ToLowerInvariant()}@example.com", "+44 20 7946 0000");
        var page = await SignedInAsync(Server, AdminServer.ReaderKey);

        // Typed the way people write it: the page sends only the digits as phone=.
        await SearchAsync(page, $"+1 (555) {digits[..3]}-{digits[3..]}");

        await Expect(ResultRows(page)).ToHaveCountAsync(1);
        await Expect(ResultRows(page).First).ToContainTextAsync($"{surname} Phone");
    });

    [Fact]
    public Task ResultsPageForwardAndBack() => RunAsync(async () =>
    {
        var surname = UniqueSurname();
        for (var i = 0; i < 27; i++)
        {
            var n = i.ToString("D2", CultureInfo.InvariantCulture);
            await Server.CreateAsync($"{surname} Person {n}", $"p{n}.{surname.ToLowerInvariant()}@example.com");
        }

        var page = await SignedInAsync(Server, AdminServer.ReaderKey);
        await SearchAsync(page, surname);
        await Expect(ResultRows(page)).ToHaveCountAsync(25);
        await Expect(Button(page, "Previous page")).ToBeDisabledAsync();

        await Button(page, "Next page").ClickAsync();
        await Expect(ResultRows(page)).ToHaveCountAsync(2);
        await Expect(Button(page, "Next page")).ToBeDisabledAsync();
        var secondPage = await ResultRows(page).AllInnerTextsAsync();

        await Button(page, "Previous page").ClickAsync();
        await Expect(ResultRows(page)).ToHaveCountAsync(25);
        var firstPage = await ResultRows(page).AllInnerTextsAsync();
        Assert.Empty(firstPage.Intersect(secondPage));
    });

    [Fact]
    public Task EditSavesAndShowsAFieldErrorNextToTheField() => RunAsync(async () =>
    {
        var surname = UniqueSurname();
        var id = await Server.CreateAsync($"{surname} Edit", $"edit.{surname.ToLowerInvariant()}@example.com", "+1 555 0100");
        var page = await SignedInAsync(Server, AdminServer.WriterKey);
        await page.GotoAsync(Server.AdminUrl + $"#/customers/{id}");
        await Link(page, "Edit").ClickAsync();
        await Expect(Heading(page, $"Edit {surname} Edit")).ToBeVisibleAsync();

        var phone = page.GetByLabel("Phone", new() { Exact = true });
        await phone.FillAsync("call me");
        await Button(page, "Save changes").ClickAsync();
        await Expect(phone).ToHaveAttributeAsync("aria-invalid", "true");
        var errorId = (await phone.GetAttributeAsync("aria-describedby"))!.Split(' ').Last();
        await Expect(page.Locator($"[id='{errorId}']")).ToContainTextAsync("The phone may contain only digits");
        await page.AssertAccessibleAsync("Edit (field error)");
        Assert.Equal("+1 555 0100", (string?)(await Server.GetAsync(id))!["phone"]);

        await phone.FillAsync("+1 555 0199");
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync($"{surname} Edited");
        await Button(page, "Save changes").ClickAsync();
        await Expect(Heading(page, $"{surname} Edited")).ToBeVisibleAsync();
        await Expect(Status(page)).ToContainTextAsync($"Customer {id} saved (version 2).");
        var saved = (await Server.GetAsync(id))!;
        Assert.Equal($"{surname} Edited", (string?)saved["name"]);
        Assert.Equal("+1 555 0199", (string?)saved["phone"]);
    });

    [Fact]
    public Task AConflictingEditShowsTheNewValuesAndOverwritesNothing() => RunAsync(async () =>
    {
        var surname = UniqueSurname();
        var email = $"race.{surname.ToLowerInvariant()}@example.com";
        var id = await Server.CreateAsync($"{surname} Race", email);
        var mine = await SignedInAsync(Server, AdminServer.WriterKey);
        await mine.GotoAsync(Server.AdminUrl + $"#/customers/{id}/edit");
        await Expect(Heading(mine, $"Edit {surname} Race")).ToBeVisibleAsync();

        // A second session (another browser context: its own sign-in) saves first.
        var theirs = await SignedInAsync(Server, AdminServer.EraserKey);
        await theirs.GotoAsync(Server.AdminUrl + $"#/customers/{id}/edit");
        await theirs.GetByLabel("Name", new() { Exact = true }).FillAsync($"{surname} Theirs");
        await Button(theirs, "Save changes").ClickAsync();
        await Expect(Heading(theirs, $"{surname} Theirs")).ToBeVisibleAsync();

        await mine.GetByLabel("Email", new() { Exact = true }).FillAsync($"mine.{surname.ToLowerInvariant()}@example.com");
        await Button(mine, "Save changes").ClickAsync();

        var conflict = mine.Locator("section").Filter(new() { Has = mine.GetByRole(AriaRole.Heading, new() { Name = "Changed since you opened it" }) });
        await Expect(conflict).ToBeVisibleAsync();
        await Expect(conflict).ToContainTextAsync("The customer has changed");
        await Expect(conflict).ToContainTextAsync($"{surname} Theirs");
        await Expect(conflict).ToContainTextAsync("version 2");
        await mine.AssertAccessibleAsync("Edit (conflict)");
        var held = (await Server.GetAsync(id))!;
        Assert.Equal($"{surname} Theirs", (string?)held["name"]);
        Assert.Equal(email, (string?)held["email"]);
        Assert.Equal(2, (int)held["version"]!);

        // Reload takes the current values and version; saving then is not a conflict.
        await Button(mine, "Reload").ClickAsync();
        await Expect(mine.GetByLabel("Name", new() { Exact = true })).ToHaveValueAsync($"{surname} Theirs");
        await mine.GetByLabel("Phone", new() { Exact = true }).FillAsync("+1 555 0142");
        await Button(mine, "Save changes").ClickAsync();
        await Expect(Heading(mine, $"{surname} Theirs")).ToBeVisibleAsync();
        Assert.Equal("+1 555 0142", (string?)(await Server.GetAsync(id))!["phone"]);
    });

    [Fact]
    public Task CreateMakesACustomerOnceADuplicateEmailIsFixed() => RunAsync(async () =>
    {
        var surname = UniqueSurname();
        var taken = $"taken.{surname.ToLowerInvariant()}@example.com";
        await Server.CreateAsync($"{surname} Taken", taken);
        var page = await SignedInAsync(Server, AdminServer.WriterKey);
        await Link(page, "New customer").ClickAsync();
        await Expect(Heading(page, "New customer")).ToBeVisibleAsync();
        await page.AssertAccessibleAsync("New customer");

        // First with an email another customer holds: the API's conflict, next to the email; nothing created.
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync($"{surname} New");
        await page.GetByLabel("Email", new() { Exact = true }).FillAsync(taken);
        await Button(page, "Create customer").ClickAsync();
        await Expect(page.GetByLabel("Email", new() { Exact = true })).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(Heading(page, "New customer")).ToBeVisibleAsync();

        // The same form with the email fixed is a new request (not the first one's idempotency key again): created.
        await page.GetByLabel("Email", new() { Exact = true }).FillAsync($"new.{surname.ToLowerInvariant()}@example.com");
        await Button(page, "Create customer").ClickAsync();

        await Expect(Heading(page, $"{surname} New")).ToBeVisibleAsync();
        var id = int.Parse(page.Url[(page.Url.LastIndexOf('/') + 1)..], CultureInfo.InvariantCulture);
        await Expect(Status(page)).ToContainTextAsync($"Customer {id} created.");
        Assert.Equal($"new.{surname.ToLowerInvariant()}@example.com", (string?)(await Server.GetAsync(id))!["email"]);
    });

    [Fact]
    public Task DeleteThenUndoRestoresTheCustomer() => RunAsync(async () =>
    {
        var surname = UniqueSurname();
        var id = await Server.CreateAsync($"{surname} Undo", $"undo.{surname.ToLowerInvariant()}@example.com");
        var page = await SignedInAsync(Server, AdminServer.WriterKey);
        await page.GotoAsync(Server.AdminUrl + $"#/customers/{id}");

        await Button(page, "Delete").ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = $"Delete {surname} Undo?" });
        await Expect(dialog).ToBeVisibleAsync();
        await page.AssertAccessibleAsync("Delete dialog");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Delete customer" }).ClickAsync();
        await Expect(Status(page)).ToContainTextAsync($"Customer {id} deleted.");
        Assert.Null(await Server.GetAsync(id));

        await Status(page).GetByRole(AriaRole.Button, new() { Name = "Undo" }).ClickAsync();
        await Expect(Heading(page, $"{surname} Undo")).ToBeVisibleAsync();
        await Expect(Status(page)).ToContainTextAsync($"Customer {id} restored.");
        Assert.NotNull(await Server.GetAsync(id));
    });

    [Fact]
    public Task DeleteThenRestoreFromRecentlyDeleted() => RunAsync(async () =>
    {
        var surname = UniqueSurname();
        var id = await Server.CreateAsync($"{surname} Gone", $"gone.{surname.ToLowerInvariant()}@example.com");
        var page = await SignedInAsync(Server, AdminServer.WriterKey);
        await page.GotoAsync(Server.AdminUrl + $"#/customers/{id}");
        await Button(page, "Delete").ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Delete customer" }).ClickAsync();
        await Expect(Status(page)).ToContainTextAsync($"Customer {id} deleted.");

        await Link(page, "Recently deleted").ClickAsync();
        await Expect(Heading(page, "Recently deleted")).ToBeVisibleAsync();
        var restore = Button(page, $"Restore {surname} Gone");
        await Expect(restore).ToBeVisibleAsync();
        await page.AssertAccessibleAsync("Recently deleted");
        await restore.ClickAsync();

        await Expect(Heading(page, $"{surname} Gone")).ToBeVisibleAsync();
        await Expect(Status(page)).ToContainTextAsync($"Customer {id} restored.");
        Assert.NotNull(await Server.GetAsync(id));
    });

    [Fact]
    public Task HistoryShowsEachStepWithWhoAndWhat() => RunAsync(async () =>
    {
        var surname = UniqueSurname();
        var id = await Server.CreateAsync($"{surname} Story", $"story.{surname.ToLowerInvariant()}@example.com");
        var page = await SignedInAsync(Server, AdminServer.WriterKey);
        await page.GotoAsync(Server.AdminUrl + $"#/customers/{id}/edit");
        await page.GetByLabel("Email", new() { Exact = true }).FillAsync($"story.new.{surname.ToLowerInvariant()}@example.com");
        await Button(page, "Save changes").ClickAsync();
        await Expect(Status(page)).ToContainTextAsync("saved (version 2)");
        await Button(page, "Delete").ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Delete customer" }).ClickAsync();
        await Status(page).GetByRole(AriaRole.Button, new() { Name = "Undo" }).ClickAsync();
        await Expect(Heading(page, $"{surname} Story")).ToBeVisibleAsync();

        await Link(page, "History").ClickAsync();
        await Expect(Heading(page, $"History of customer {id}")).ToBeVisibleAsync();
        var events = page.Locator("main li");
        await Expect(events).ToHaveCountAsync(4);
        var texts = await events.Locator("p.event").AllInnerTextsAsync();
        Assert.Collection(texts,
            e => Assert.Matches("^restored .* by key:writer — version 4$", e),
            e => Assert.Matches("^deleted .* by key:writer — version 3$", e),
            e => Assert.Matches("^updated .* by key:writer — version 2$", e),
            e => Assert.Matches("^created .* by key:eraser — version 1$", e));
        var change = events.Nth(2).GetByRole(AriaRole.Row).Filter(new() { HasText = "email" });
        await Expect(change).ToContainTextAsync($"story.{surname.ToLowerInvariant()}@example.com");
        await Expect(change).ToContainTextAsync($"story.new.{surname.ToLowerInvariant()}@example.com");
        await page.AssertAccessibleAsync("History");
    });

    [Fact]
    public Task ExportDownloadsTheCustomersJson() => RunAsync(async () =>
    {
        var surname = UniqueSurname();
        var email = $"export.{surname.ToLowerInvariant()}@example.com";
        var id = await Server.CreateAsync($"{surname} Export", email);
        var page = await SignedInAsync(Server, AdminServer.ReaderKey);
        await page.GotoAsync(Server.AdminUrl + $"#/customers/{id}");
        await Expect(Heading(page, $"{surname} Export")).ToBeVisibleAsync();

        var download = await page.RunAndWaitForDownloadAsync(() => Button(page, "Export JSON").ClickAsync());

        Assert.Equal($"customer-{id}.json", download.SuggestedFilename);
        var json = JsonNode.Parse(await File.ReadAllTextAsync((await download.PathAsync())!))!;
        var text = json.ToJsonString();
        Assert.Contains(email, text, StringComparison.Ordinal);
        Assert.Contains($"{surname} Export", text, StringComparison.Ordinal);
    });

    [Fact]
    public Task EraseNeedsTheTypedIdAndTheEraseScope() => RunAsync(async () =>
    {
        var surname = UniqueSurname();
        var id = await Server.CreateAsync($"{surname} Erase", $"erase.{surname.ToLowerInvariant()}@example.com");
        var writer = await SignedInAsync(Server, AdminServer.WriterKey);
        await writer.GotoAsync(Server.AdminUrl + $"#/customers/{id}");
        await Expect(Button(writer, "Delete")).ToBeVisibleAsync();
        await Expect(Button(writer, "Erase")).ToHaveCountAsync(0);
        // The erase scope is the API's rule, not only the page's: the writer's own credential is refused.
        var writerErase = await writer.EvaluateAsync<int>(
            """
            async (id) => {
              const { value } = JSON.parse(sessionStorage.getItem('customer-records-admin:credential'));
              const r = await fetch(`/customers/${id}/erase`, { method: 'POST', headers: { 'X-Api-Key': value } });
              return r.status;
            }
            """, id);
        Assert.Equal(403, writerErase);
        Assert.NotNull(await Server.GetAsync(id));

        var page = await SignedInAsync(Server, AdminServer.EraserKey);
        await page.GotoAsync(Server.AdminUrl + $"#/customers/{id}");
        await Button(page, "Erase").ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = $"Erase {surname} Erase?" });
        var confirm = dialog.GetByRole(AriaRole.Button, new() { Name = "Erase customer" });
        var box = dialog.GetByLabel($"Type the customer ID {id} to confirm");
        await Expect(confirm).ToBeDisabledAsync();
        await box.FillAsync((id + 1).ToString(CultureInfo.InvariantCulture));
        await Expect(confirm).ToBeDisabledAsync();
        await page.AssertAccessibleAsync("Erase dialog");
        Assert.NotNull(await Server.GetAsync(id));

        await box.FillAsync(id.ToString(CultureInfo.InvariantCulture));
        await confirm.ClickAsync();
        await Expect(Status(page)).ToContainTextAsync($"Customer {id} erased.");
        Assert.Null(await Server.GetAsync(id));
    });
}
