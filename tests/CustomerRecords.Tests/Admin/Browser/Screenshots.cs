using CustomerRecords.Tests.Deploy;
using Microsoft.Playwright;

namespace CustomerRecords.Tests.Admin.Browser;

/// <summary>
/// PNGs of the admin page's views: always into <c>screenshots/</c> of the test output folder, and into the repo's
/// <c>docs/admin/</c> (the support guide's pictures) when <c>CRTEST_UPDATE_SCREENSHOTS=1</c>. Only fake data from
/// example domains may be on screen.
/// </summary>
internal static class Screenshots
{
    public static bool UpdateDocs => Environment.GetEnvironmentVariable("CRTEST_UPDATE_SCREENSHOTS") == "1";

    public static async Task SaveAsync(IPage page, string name)
    {
        var png = await page.ScreenshotAsync(new() { FullPage = false, Animations = ScreenshotAnimations.Disabled });
        var output = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "screenshots")).FullName;
        await File.WriteAllBytesAsync(Path.Combine(output, name), png);
        if (UpdateDocs)
        {
            var docs = Directory.CreateDirectory(Repo.PathOf("docs/admin")).FullName;
            await File.WriteAllBytesAsync(Path.Combine(docs, name), png);
        }
    }

    /// <summary>On a failing step, a screenshot into <c>browser-failures/</c> of the output folder; returns its path.</summary>
    public static async Task<string?> SaveFailureAsync(IPage page, string test)
    {
        try
        {
            var output = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "browser-failures")).FullName;
            var path = Path.Combine(output, test + ".png");
            await page.ScreenshotAsync(new() { Path = path, FullPage = true, Timeout = 5000 });
            return path;
        }
        catch (PlaywrightException)
        {
            return null;
        }
    }
}
