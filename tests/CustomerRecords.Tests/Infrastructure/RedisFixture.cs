using System.Diagnostics.CodeAnalysis;

namespace CustomerRecords.Tests.Infrastructure;

/// <summary>One redis-server shared by every test class in the "redis" collection.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    private RedisServer? _server;

    public RedisServer Server => _server ?? throw new InvalidOperationException("The fixture has not been initialized.");

    public string ConnectionString => Server.ConnectionString;

    public async Task InitializeAsync() => _server = await RedisServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>
/// Classes in this collection share one <see cref="RedisFixture"/> and run one after another.
/// Redis has one keyspace per server, so classes should use distinct key prefixes (or their own
/// server when they need to kill, pause or flush it).
/// </summary>
[CollectionDefinition(Name)]
[SuppressMessage("Naming", "CA1711", Justification = "xunit names collection definitions after the collection.")]
public sealed class RedisCollection : ICollectionFixture<RedisFixture>
{
    public const string Name = "redis";
}
