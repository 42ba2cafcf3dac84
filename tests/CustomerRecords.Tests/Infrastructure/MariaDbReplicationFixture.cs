namespace CustomerRecords.Tests.Infrastructure;

/// <summary>
/// A GTID primary and a read-only replica already replicating from it. Share it per class
/// (<c>IClassFixture</c>) and give each test its own database; tests that kill either server
/// should start their own pair instead.
/// </summary>
public sealed class MariaDbReplicationFixture : IAsyncLifetime
{
    private MariaDbServer? _primary;
    private MariaDbServer? _replica;

    public MariaDbServer Primary => _primary ?? throw new InvalidOperationException("The fixture has not been initialized.");

    public MariaDbServer Replica => _replica ?? throw new InvalidOperationException("The fixture has not been initialized.");

    public async Task InitializeAsync()
    {
        var primary = MariaDbServer.StartAsync(new MariaDbServerOptions { EnableBinlog = true });
        var replica = MariaDbServer.StartAsync(new MariaDbServerOptions { EnableBinlog = true, ReadOnly = true });
        try
        {
            await Task.WhenAll(primary, replica);
        }
        finally
        {
            _primary = primary.IsCompletedSuccessfully ? primary.Result : null;
            _replica = replica.IsCompletedSuccessfully ? replica.Result : null;
        }

        await Replica.ConfigureAsReplicaOfAsync(Primary);
    }

    public async Task DisposeAsync()
    {
        if (_replica is not null)
        {
            await _replica.DisposeAsync();
        }

        if (_primary is not null)
        {
            await _primary.DisposeAsync();
        }
    }
}
