using Microsoft.Data.Sqlite;

namespace CustomerRecords.Tests.Infrastructure;

/// <summary>
/// A temp folder for SQLite files, removed on dispose once the connection pools have let go of them
/// (a pooled connection would otherwise keep a file open and the folder in place).
/// </summary>
public sealed class SqliteTempDirectory : IDisposable
{
    private readonly TempDirectory _directory = new();

    public string Path => _directory.Path;

    /// <summary>A connection string for a new database file in the folder.</summary>
    public string NewConnectionString() => $"Data Source={System.IO.Path.Combine(Path, $"{Guid.NewGuid():N}.db")}";

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }
}
