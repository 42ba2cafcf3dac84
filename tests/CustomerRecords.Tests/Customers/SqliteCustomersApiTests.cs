using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.Customers;

/// <summary>The API contract over the embedded default: a SQLite file per test.</summary>
public sealed class SqliteCustomersApiTests : CustomersApiContract
{
    private readonly TempDirectory _directory = new();

    protected override Task<Dictionary<string, string?>> NewDatabaseSettingsAsync() =>
        Task.FromResult(CustomerApiFactory.SqliteSettings(_directory.Path));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }
}
