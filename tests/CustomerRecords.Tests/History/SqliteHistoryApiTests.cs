namespace CustomerRecords.Tests.History;

/// <summary>The history contract over the embedded default: a SQLite file per test.</summary>
public sealed class SqliteHistoryApiTests : HistoryApiContract
{
    protected override Task<Dictionary<string, string?>> NewDatabaseSettingsAsync() => SqliteDatabaseAsync();
}
