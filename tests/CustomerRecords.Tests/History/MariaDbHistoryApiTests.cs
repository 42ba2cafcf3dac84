using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.History;

/// <summary>The history contract over a real MariaDB server: a fresh database per test, with the sample customers.</summary>
[Collection(MariaDbCollection.Name)]
public sealed class MariaDbHistoryApiTests(MariaDbFixture mariaDb) : HistoryApiContract
{
    protected override Task<Dictionary<string, string?>> NewDatabaseSettingsAsync() => MariaDbDatabaseAsync(mariaDb, seedSampleData: true);
}
