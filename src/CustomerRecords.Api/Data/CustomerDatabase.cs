using System.Data.Common;

namespace CustomerRecords.Api.Data;

/// <summary>The database the service talks to: where writes go, where reads go, and its SQL dialect.</summary>
internal sealed class CustomerDatabase(DbDataSource writer, DbDataSource reader, SqlDialect dialect) : IAsyncDisposable
{
    /// <summary>The primary (writer endpoint). Every write and every read that must see the latest commit.</summary>
    public DbDataSource Writer { get; } = writer;

    /// <summary>Where plain reads go: a replica / reader endpoint when one is configured, else <see cref="Writer"/>.</summary>
    public DbDataSource Reader { get; } = reader;

    public SqlDialect Dialect { get; } = dialect;

    public async ValueTask DisposeAsync()
    {
        if (!ReferenceEquals(Reader, Writer))
        {
            await Reader.DisposeAsync();
        }

        await Writer.DisposeAsync();
    }
}
