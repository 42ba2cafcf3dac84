using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.Admin.Browser;

/// <summary>The admin page's data flows over the embedded default: one SQLite file for the class.</summary>
[Collection(AdminBrowserCollection.Name)]
public sealed class SqliteAdminPageTests(BrowserFixture browser) : AdminPageContract(browser)
{
    protected override Task<Dictionary<string, string?>> NewDatabaseSettingsAsync() =>
        Task.FromResult(CustomerApiFactory.SqliteSettings(TempDirectory.ForRun()));
}
