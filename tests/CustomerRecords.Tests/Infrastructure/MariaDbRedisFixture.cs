using System.Diagnostics.CodeAnalysis;

namespace CustomerRecords.Tests.Infrastructure;

/// <summary>
/// A MariaDB and a Redis server for tests of the service with its cache in front of the
/// database. Separate from the "mariadb" and "redis" collections, so its servers are its own.
/// </summary>
public sealed class MariaDbRedisFixture : IAsyncLifetime
{
    private MariaDbServer? _mariaDb;
    private RedisServer? _redis;

    public MariaDbServer MariaDb => _mariaDb ?? throw new InvalidOperationException("The fixture has not been initialized.");

    public RedisServer Redis => _redis ?? throw new InvalidOperationException("The fixture has not been initialized.");

    /// <summary>A fresh database with its own user; returns its connection string.</summary>
    public Task<string> CreateDatabaseAsync() => MariaDb.CreateDatabaseAsync();

    public async Task InitializeAsync()
    {
        var mariaDb = MariaDbServer.StartAsync();
        var redis = RedisServer.StartAsync();
        try
        {
            await Task.WhenAll(mariaDb, redis);
        }
        finally
        {
            // Keep whichever started, so DisposeAsync stops it even if the other failed.
            _mariaDb = mariaDb.IsCompletedSuccessfully ? mariaDb.Result : null;
            _redis = redis.IsCompletedSuccessfully ? redis.Result : null;
        }
    }

    public async Task DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }

        if (_mariaDb is not null)
        {
            await _mariaDb.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
[SuppressMessage("Naming", "CA1711", Justification = "xunit names collection definitions after the collection.")]
public sealed class MariaDbRedisCollection : ICollectionFixture<MariaDbRedisFixture>
{
    public const string Name = "mariadb+redis";
}
