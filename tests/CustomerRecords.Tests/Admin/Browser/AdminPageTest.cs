using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace CustomerRecords.Tests.Admin.Browser;

/// <summary>
/// What the admin page's browser tests share: contexts opened by a test (closed after it), sign-in with a key, unique
/// fake data, and <see cref="RunAsync"/>, which saves a screenshot of every open page when the test body fails.
/// </summary>
public abstract class AdminPageTest(BrowserFixture browser) : IAsyncLifetime
{
    private readonly List<IBrowserContext> _contexts = [];

    protected BrowserFixture Browser { get; } = browser;

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var context in _contexts)
        {
            await context.DisposeAsync();
        }
    }

    /// <summary>
    /// Runs the test body; on failure, screenshots of the open pages (and with <see cref="BrowserFixture.Traces"/> the
    /// contexts' traces) go to <c>browser-failures/</c> of the output folder.
    /// </summary>
    protected async Task RunAsync(Func<Task> body, [CallerMemberName] string test = "")
    {
        try
        {
            await body();
        }
        catch (Exception)
        {
            var n = 0;
            foreach (var page in _contexts.SelectMany(c => c.Pages))
            {
                await Screenshots.SaveFailureAsync(page, $"{GetType().Name}.{test}.{n++}");
            }

            if (BrowserFixture.Traces)
            {
                n = 0;
                foreach (var context in _contexts)
                {
                    await context.Tracing.StopAsync(new() { Path = Path.Combine(AppContext.BaseDirectory, "browser-failures", $"{GetType().Name}.{test}.{n++}.trace.zip") });
                }
            }

            throw;
        }
    }

    /// <summary>A new page in a new context (own sessionStorage) at the admin page of <paramref name="server"/>.</summary>
    protected async Task<IPage> OpenAsync(AdminServer server, ViewportSize? viewport = null)
    {
        var context = await Browser.NewContextAsync(viewport);
        _contexts.Add(context);
        var page = await context.NewPageAsync();
        await page.GotoAsync(server.AdminUrl);
        return page;
    }

    /// <summary>A new page signed in with <paramref name="key"/>, on the Find view.</summary>
    protected async Task<IPage> SignedInAsync(AdminServer server, string key, ViewportSize? viewport = null)
    {
        var page = await OpenAsync(server, viewport);
        await SignInWithKeyAsync(page, key);
        await Expect(Heading(page, "Find customers")).ToBeVisibleAsync();
        return page;
    }

    protected static async Task SignInWithKeyAsync(IPage page, string key)
    {
        await Expect(Heading(page, "Sign in")).ToBeVisibleAsync();
        await page.GetByLabel("API key", new() { Exact = true }).FillAsync(key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in with API key" }).ClickAsync();
    }

    /// <summary>The view's one <c>h1</c>.</summary>
    protected static ILocator Heading(IPage page, string name) =>
        page.GetByRole(AriaRole.Heading, new() { Name = name, Level = 1, Exact = true });

    protected static ILocator Button(IPage page, string name) => page.GetByRole(AriaRole.Button, new() { Name = name, Exact = true });

    protected static ILocator Link(IPage page, string name) => page.GetByRole(AriaRole.Link, new() { Name = name, Exact = true });

    protected static ILocator Status(IPage page) => page.GetByRole(AriaRole.Status);

    protected static async Task SearchAsync(IPage page, string text)
    {
        await page.GetByRole(AriaRole.Searchbox, new() { Name = "Search" }).FillAsync(text);
        await Button(page, "Search").ClickAsync();
    }

    protected static ILocator ResultRows(IPage page) =>
        page.GetByRole(AriaRole.Table, new() { Name = "Customers found" }).Locator("tbody tr");

    /// <summary>A made-up surname of letters only, unique to the test, so its customers are the only ones its searches find.</summary>
    protected static string UniqueSurname()
    {
        Span<char> letters = stackalloc char[8];
        for (var i = 0; i < letters.Length; i++)
        {
            letters[i] = (char)('a' + RandomNumberGenerator.GetInt32(26));
        }

        return "Qz" + new string(letters);
    }

    /// <summary>Seven random digits, for a phone number no other test has.</summary>
    protected static string UniqueDigits() => RandomNumberGenerator.GetInt32(1_000_000, 10_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
