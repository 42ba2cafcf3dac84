using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MySqlConnector;

namespace CustomerRecords.Tests.Infrastructure;

internal static class Sql
{
    public static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public static async Task<List<string>> ColumnAsync(string connectionString, string sql)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }
}

[Collection(MariaDbCollection.Name)]
public sealed class MariaDbFixtureTests(MariaDbFixture fixture)
{
    [Fact]
    public async Task ACreatedDatabaseAcceptsATableAndARow()
    {
        var connectionString = await fixture.CreateDatabaseAsync();

        await Sql.ExecuteAsync(connectionString, "CREATE TABLE customer (id INT PRIMARY KEY, name VARCHAR(100)); INSERT INTO customer VALUES (1, 'Zoë')");

        Assert.Equal(["Zoë"], await Sql.ColumnAsync(connectionString, "SELECT name FROM customer"));
    }

    [Fact]
    public async Task TheUserOfOneCreatedDatabaseCannotOpenAnother()
    {
        var mine = await fixture.CreateDatabaseAsync();
        var other = new MySqlConnectionStringBuilder(await fixture.CreateDatabaseAsync());

        var error = await Assert.ThrowsAsync<MySqlException>(() => Sql.ExecuteAsync(mine, $"USE `{other.Database}`"));

        Assert.Equal(MySqlErrorCode.DatabaseAccessDenied, error.ErrorCode);
    }
}

public sealed class MariaDbServerTests
{
    [Fact]
    public async Task ACommittedRowSurvivesKillAndStartAgainOnTheSamePort()
    {
        await using var server = await MariaDbServer.StartAsync();
        var connectionString = await server.CreateDatabaseAsync();
        await Sql.ExecuteAsync(connectionString, "CREATE TABLE customer (id INT PRIMARY KEY); INSERT INTO customer VALUES (42)");
        var port = server.Port;

        await server.KillAsync();
        await server.StartAgainAsync();

        Assert.Equal(port, server.Port);
        Assert.Equal(["42"], await Sql.ColumnAsync(connectionString, "SELECT CAST(id AS CHAR) FROM customer"));
    }

    [Fact]
    public async Task AServerGivenACertificateServesTls()
    {
        var certificates = TestDirectory.Create("certs");
        try
        {
            var (certPath, keyPath) = WriteSelfSignedCertificate(certificates);
            await using var server = await MariaDbServer.StartAsync(new MariaDbServerOptions { SslCertPath = certPath, SslKeyPath = keyPath });

            var connectionString = await server.CreateDatabaseAsync();
            var cipher = await Sql.ColumnAsync(connectionString, "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'SSL_CIPHER'");

            Assert.NotEmpty(Assert.Single(cipher));
        }
        finally
        {
            await TestDirectory.DeleteAsync(certificates);
        }
    }

    private static (string CertPath, string KeyPath) WriteSelfSignedCertificate(string directory)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var certPath = Path.Combine(directory, "server-cert.pem");
        var keyPath = Path.Combine(directory, "server-key.pem");
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certPath, keyPath);
    }
}

public sealed class MariaDbReplicationTests(MariaDbReplicationFixture pair) : IClassFixture<MariaDbReplicationFixture>
{
    private static readonly TimeSpan CatchUpTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task TheReplicaReceivesARowWrittenOnThePrimary()
    {
        var onPrimary = await pair.Primary.CreateDatabaseAsync();
        var onReplica = pair.Replica.RetargetConnectionString(onPrimary);

        await Sql.ExecuteAsync(onPrimary, "CREATE TABLE customer (name VARCHAR(100)); INSERT INTO customer VALUES ('Ada')");
        await pair.Replica.WaitForReplicationCatchUpAsync(pair.Primary, CatchUpTimeout);

        Assert.Equal(["Ada"], await Sql.ColumnAsync(onReplica, "SELECT name FROM customer"));
    }

    [Fact]
    public async Task WithReplicationStoppedANewRowIsOnlyOnThePrimaryUntilReplicationStartsAgain()
    {
        var onPrimary = await pair.Primary.CreateDatabaseAsync();
        var onReplica = pair.Replica.RetargetConnectionString(onPrimary);
        await Sql.ExecuteAsync(onPrimary, "CREATE TABLE customer (name VARCHAR(100)); INSERT INTO customer VALUES ('Ada')");
        await pair.Replica.WaitForReplicationCatchUpAsync(pair.Primary, CatchUpTimeout);

        await pair.Replica.StopReplicationAsync();
        try
        {
            await Sql.ExecuteAsync(onPrimary, "INSERT INTO customer VALUES ('Grace')");

            Assert.Equal(["Ada", "Grace"], await Sql.ColumnAsync(onPrimary, "SELECT name FROM customer ORDER BY name"));
            Assert.Equal(["Ada"], await Sql.ColumnAsync(onReplica, "SELECT name FROM customer ORDER BY name"));
            await Assert.ThrowsAsync<TimeoutException>(
                () => pair.Replica.WaitForReplicationCatchUpAsync(pair.Primary, TimeSpan.FromMilliseconds(300)));
        }
        finally
        {
            await pair.Replica.StartReplicationAsync();
        }

        await pair.Replica.WaitForReplicationCatchUpAsync(pair.Primary, CatchUpTimeout);
        Assert.Equal(["Ada", "Grace"], await Sql.ColumnAsync(onReplica, "SELECT name FROM customer ORDER BY name"));
    }

    [Fact]
    public async Task TheReplicaRefusesWritesFromItsDatabaseUser()
    {
        var onPrimary = await pair.Primary.CreateDatabaseAsync();
        var onReplica = pair.Replica.RetargetConnectionString(onPrimary);
        await Sql.ExecuteAsync(onPrimary, "CREATE TABLE customer (name VARCHAR(100))");
        await pair.Replica.WaitForReplicationCatchUpAsync(pair.Primary, CatchUpTimeout);

        var error = await Assert.ThrowsAsync<MySqlException>(() => Sql.ExecuteAsync(onReplica, "INSERT INTO customer VALUES ('Eve')"));

        Assert.Equal(MySqlErrorCode.OptionPreventsStatement, error.ErrorCode);
    }
}

[Collection(RedisCollection.Name)]
public sealed class RedisFixtureTests(RedisFixture fixture)
{
    [Fact]
    public async Task TheSharedRedisAnswersPingOnItsConnectionString()
    {
        Assert.Equal($"127.0.0.1:{fixture.Server.Port}", fixture.ConnectionString);
        Assert.True(await fixture.Server.PingAsync(TimeSpan.FromSeconds(5)));
    }
}

public sealed class RedisServerTests
{
    [Fact]
    public async Task AKilledRedisStartsAgainOnTheSamePort()
    {
        await using var server = await RedisServer.StartAsync();
        var port = server.Port;

        await server.KillAsync();
        Assert.False(await server.PingAsync(TimeSpan.FromSeconds(1)));
        await server.StartAgainAsync();

        Assert.Equal(port, server.Port);
        Assert.True(await server.PingAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task APausedRedisAnswersOnlyAfterItIsResumed()
    {
        await using var server = await RedisServer.StartAsync();

        server.Pause();
        Assert.False(await server.PingAsync(TimeSpan.FromMilliseconds(500)));
        server.Resume();

        Assert.True(await server.PingAsync(TimeSpan.FromSeconds(5)));
    }
}

public sealed class ServerBinariesTests
{
    [Fact]
    public void AMissingServerBinaryFailsWithTheInstallCommand()
    {
        var error = Assert.Throws<InvalidOperationException>(() => ServerBinaries.Locate("crtest-no-such-server"));

        Assert.Contains("Run 'sudo scripts/install-test-deps.sh' (apt-get install mariadb-server redis-server memcached)", error.Message, StringComparison.Ordinal);
    }
}
