using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.Customers;

/// <summary>The API contract over the embedded default: a SQLite file per test.</summary>
public sealed class SqliteCustomersApiTests : CustomersApiContract
{
    protected override Task<Dictionary<string, string?>> NewDatabaseSettingsAsync() => SqliteDatabaseAsync();
}
