using System.Diagnostics.CodeAnalysis;

namespace CustomerRecords.Tests.Infrastructure;

/// <summary>
/// One MariaDB server shared by every test class in the "mariadb" collection. Classes get
/// isolation from <see cref="CreateDatabaseAsync"/> (a fresh database and user each), not from
/// separate servers: a server start costs about a second.
/// </summary>
public sealed class MariaDbFixture : IAsyncLifetime
{
    private MariaDbServer? _server;

    public MariaDbServer Server => _server ?? throw new InvalidOperationException("The fixture has not been initialized.");

    /// <summary>A fresh database with its own user; returns its connection string.</summary>
    public Task<string> CreateDatabaseAsync() => Server.CreateDatabaseAsync();

    public async Task InitializeAsync() => _server = await MariaDbServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>
/// Classes in this collection share one <see cref="MariaDbFixture"/> and run one after another;
/// other collections run in parallel with them. Killing or pausing the shared server would
/// break the neighbours, so tests that do that start their own <see cref="MariaDbServer"/>.
/// </summary>
[CollectionDefinition(Name)]
[SuppressMessage("Naming", "CA1711", Justification = "xunit names collection definitions after the collection.")]
public sealed class MariaDbCollection : ICollectionFixture<MariaDbFixture>
{
    public const string Name = "mariadb";
}
