using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.Playwright;

namespace CustomerRecords.Tests.Admin.Browser;

/// <summary>
/// One Playwright driver and one headless Debian Chromium (<c>/usr/bin/chromium</c>) for the whole browser collection;
/// each test opens its own <see cref="IBrowserContext"/> (own sessionStorage, so credentials never leak between tests).
/// Servers a test class shares (<see cref="SharedServerAsync"/>) live as long as the collection.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    public static ViewportSize Desktop { get; } = new() { Width = 1280, Height = 800 };

    public static ViewportSize Phone { get; } = new() { Width = 390, Height = 844 };

    private readonly ConcurrentDictionary<string, Lazy<Task<IAsyncDisposable>>> _shared = new();
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("The browser fixture is not initialised.");

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException(
                $"{ChromiumPath} is missing: the admin page's browser tests drive Debian's Chromium. Install it with `sudo scripts/install-test-deps.sh`.");
        }

        // The driver is the node-based one the package copies into the output folder (.playwright/); Playwright's own
        // browser download is never used: the executable path points at Debian's build.
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            // Chromium refuses to start as root with its sandbox on (the sandbox needs an unprivileged user namespace
            // that root is not given); as a normal user the sandbox stays on.
            Args = Libc.IsRoot ? ["--no-sandbox"] : [],
        });
    }

    /// <summary>
    /// With <c>CRTEST_BROWSER_TRACES=1</c>, each context records a Playwright trace (screenshots and DOM snapshots),
    /// saved when its test fails (<c>npx playwright show-trace</c>); off by default, as recording costs time on every test.
    /// </summary>
    public static bool Traces => Environment.GetEnvironmentVariable("CRTEST_BROWSER_TRACES") == "1";

    /// <summary>A fresh context (empty sessionStorage, downloads allowed) at a fixed viewport, desktop by default.</summary>
    public async Task<IBrowserContext> NewContextAsync(ViewportSize? viewport = null)
    {
        var context = await Browser.NewContextAsync(new()
        {
            ViewportSize = viewport ?? Desktop,
            AcceptDownloads = true,
            Locale = "en-US",
            TimezoneId = "UTC",
        });
        if (Traces)
        {
            await context.Tracing.StartAsync(new() { Screenshots = true, Snapshots = true });
        }

        return context;
    }

    /// <summary>
    /// The server <paramref name="key"/> names, made by <paramref name="create"/> the first time (one per test class,
    /// seeded once), disposed when the collection ends.
    /// </summary>
    public async Task<T> SharedServerAsync<T>(string key, Func<Task<T>> create)
        where T : IAsyncDisposable =>
        (T)await _shared.GetOrAdd(key, _ => new Lazy<Task<IAsyncDisposable>>(async () => await create())).Value;

    public async Task DisposeAsync()
    {
        foreach (var server in _shared.Values)
        {
            if (server.IsValueCreated && server.Value.IsCompletedSuccessfully)
            {
                await server.Value.Result.DisposeAsync();
            }
        }

        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}

/// <summary>
/// The browser tests: one collection, so one Chromium serves them all and they run one at a time on a small machine;
/// the MariaDB server is shared by the classes that run over MariaDB.
/// </summary>
[CollectionDefinition(Name)]
[SuppressMessage("Naming", "CA1711", Justification = "xunit names collection definitions after the collection.")]
public sealed class AdminBrowserCollection : ICollectionFixture<BrowserFixture>, ICollectionFixture<MariaDbFixture>
{
    public const string Name = "admin-browser";
}
