using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.Admin.Browser;

/// <summary>The admin page's data flows over a real MariaDB server: one database for the class.</summary>
[Collection(AdminBrowserCollection.Name)]
public sealed class MariaDbAdminPageTests(BrowserFixture browser, MariaDbFixture mariaDb) : AdminPageContract(browser)
{
    protected override async Task<Dictionary<string, string?>> NewDatabaseSettingsAsync() =>
        CustomerApiFactory.MySqlSettings(await mariaDb.CreateDatabaseAsync());
}
