using System.Collections.Concurrent;
using System.Data.Common;

namespace CustomerRecords.Api.Data;

/// <summary>The database the service talks to: where writes go, where reads go, and its SQL dialect.</summary>
internal sealed class AppDatabase : IAsyncDisposable
{
    /// <summary>How long a replaced writer data source stays open for attempts that already picked it up.</summary>
    private static readonly TimeSpan RetireAfter = TimeSpan.FromMinutes(1);

    private readonly DbDataSource? _reader;
    private readonly Func<DbDataSource>? _newWriter;
    private readonly ConcurrentDictionary<DbDataSource, byte> _retired = new();
    private DbDataSource _writer;

    /// <param name="writer">The writer endpoint's data source.</param>
    /// <param name="reader">The replica's data source, or <paramref name="writer"/> when there is none.</param>
    /// <param name="dialect">The engine's SQL dialect.</param>
    /// <param name="newWriter">Builds a fresh writer data source (an empty pool) for <see cref="ReplaceWriter"/>; null where pools never need replacing.</param>
    public AppDatabase(DbDataSource writer, DbDataSource reader, SqlDialect dialect, Func<DbDataSource>? newWriter = null)
    {
        _writer = writer;
        _reader = ReferenceEquals(reader, writer) ? null : reader;
        _newWriter = newWriter;
        Dialect = dialect;
    }

    /// <summary>The primary (writer endpoint). Every write and every read that must see the latest commit.</summary>
    public DbDataSource Writer => Volatile.Read(ref _writer);

    /// <summary>Where plain reads go: a replica / reader endpoint when one is configured, else <see cref="Writer"/>.</summary>
    public DbDataSource Reader => _reader ?? Writer;

    public SqlDialect Dialect { get; }

    /// <summary>
    /// Swaps in a writer data source with an empty pool when <paramref name="failed"/> is still the
    /// current one, so the next attempt opens a new connection to whichever server the endpoint names
    /// now. MySqlConnector cannot clear a data source's pool (<c>MySqlConnection.ClearPool</c> only
    /// finds pools made from plain connection strings), so the pool is replaced instead; the old one
    /// is disposed a little later, when no attempt that picked it up can still be using it.
    /// </summary>
    /// <returns>True when this call replaced the pool.</returns>
    public bool ReplaceWriter(DbDataSource failed)
    {
        if (_newWriter is null || !ReferenceEquals(Volatile.Read(ref _writer), failed))
        {
            return false;
        }

        var fresh = _newWriter();
        if (!ReferenceEquals(Interlocked.CompareExchange(ref _writer, fresh, failed), failed))
        {
            fresh.Dispose(); // another attempt replaced it first
            return false;
        }

        _retired[failed] = 0;
        _ = Task.Delay(RetireAfter).ContinueWith(_ => DisposeRetiredAsync(failed).AsTask(), TaskScheduler.Default).Unwrap();
        return true;
    }

    private async ValueTask DisposeRetiredAsync(DbDataSource source)
    {
        if (_retired.TryRemove(source, out _))
        {
            await source.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var source in _retired.Keys)
        {
            await DisposeRetiredAsync(source);
        }

        if (_reader is not null)
        {
            await _reader.DisposeAsync();
        }

        await Writer.DisposeAsync();
    }
}
