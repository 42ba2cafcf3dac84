using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.History;

/// <summary>The history contract over the embedded default: a SQLite file per test.</summary>
public sealed class SqliteHistoryApiTests : HistoryApiContract
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
