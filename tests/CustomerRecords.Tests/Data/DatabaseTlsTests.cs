using CustomerRecords.Api.Aws;
using CustomerRecords.Api.Data;
using CustomerRecords.Tests.Aws;
using MySqlConnector;

namespace CustomerRecords.Tests.Data;

/// <summary>TLS to a real MariaDB with a test CA, and IAM authentication through the periodic password provider.</summary>
public sealed class DatabaseTlsTests(TlsMariaDb db) : IClassFixture<TlsMariaDb>
{
    [Fact]
    public async Task VerifyCaSucceedsWithTheRightCa()
    {
        await using var connection = new MySqlConnection(db.ConnectionString() + $";SslMode=VerifyCA;SslCa={db.CaFile}");
        await connection.OpenAsync();

        Assert.NotEqual("", await Scalar(connection, "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_cipher'"));
    }

    [Fact]
    public async Task VerifyCaFailsWithAnotherCa()
    {
        await using var connection = new MySqlConnection(db.ConnectionString() + $";SslMode=VerifyCA;SslCa={db.WrongCaFile}");

        var error = await Assert.ThrowsAsync<MySqlException>(() => connection.OpenAsync());
        Assert.Contains("certificate", error.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task VerifyFullAlsoChecksTheHostName()
    {
        await using (var named = new MySqlConnection(db.ConnectionString(host: "localhost") + $";SslMode=VerifyFull;SslCa={db.CaFile}"))
        {
            await named.OpenAsync();
        }

        // The certificate names localhost, not 127.0.0.1.
        await using var byAddress = new MySqlConnection(db.ConnectionString(host: "127.0.0.1") + $";SslMode=VerifyFull;SslCa={db.CaFile}");
        await Assert.ThrowsAsync<MySqlException>(() => byAddress.OpenAsync());
    }

    [Fact]
    public async Task ConfigureMySqlAppliesTheTlsSettings()
    {
        var builder = new MySqlDataSourceBuilder(db.ConnectionString(host: "localhost"));
        DatabaseSecurity.ConfigureMySql(builder, new IamAuthenticationOptions(), new DatabaseTlsOptions { CaCertificateFile = db.CaFile });
        await using var dataSource = builder.Build();

        Assert.Equal(MySqlSslMode.VerifyFull, new MySqlConnectionStringBuilder(dataSource.ConnectionString).SslMode);
        await using var connection = await dataSource.OpenConnectionAsync();
        Assert.NotEqual("", await Scalar(connection, "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_cipher'"));
    }

    [Fact]
    public async Task ConfigureMySqlRejectsAServerSignedByAnotherCa()
    {
        var builder = new MySqlDataSourceBuilder(db.ConnectionString());
        DatabaseSecurity.ConfigureMySql(builder, new IamAuthenticationOptions(), new DatabaseTlsOptions { CaCertificateFile = db.WrongCaFile, SslMode = MySqlSslMode.VerifyCA });
        await using var dataSource = builder.Build();

        await Assert.ThrowsAsync<MySqlException>(async () => await dataSource.OpenConnectionAsync());
    }

    [Fact]
    public async Task IamAuthenticationConnectsWithAGeneratedTokenOverTls()
    {
        // The IAM user's password in this MariaDB is the RDS token for fixed credentials and time, so a connection
        // succeeds only if the periodic password provider produced exactly that token, and TLS was on (REQUIRE SSL).
        var builder = new MySqlDataSourceBuilder(db.ConnectionString(user: TlsMariaDb.IamUser, password: "ignored-password"));
        using var credentials = new AwsCredentialsProvider(new AwsCredentialsProviderTests.FakeImds(DateTimeOffset.MaxValue),
            name => name switch
            {
                "AWS_ACCESS_KEY_ID" => TlsMariaDb.IamCredentials.AccessKeyId,
                "AWS_SECRET_ACCESS_KEY" => TlsMariaDb.IamCredentials.SecretAccessKey,
                "AWS_SESSION_TOKEN" => TlsMariaDb.IamCredentials.SessionToken,
                _ => null,
            });
        DatabaseSecurity.ConfigureMySql(builder,
            new IamAuthenticationOptions { Enabled = true, Region = "eu-west-1" },
            new DatabaseTlsOptions { CaCertificateFile = db.CaFile, SslMode = MySqlSslMode.VerifyCA },
            credentials, new AwsCredentialsProviderTests.FixedClock(TlsMariaDb.IamSigningTime));
        await using var dataSource = builder.Build();

        Assert.DoesNotContain("ignored-password", dataSource.ConnectionString, StringComparison.Ordinal);
        await using var connection = await dataSource.OpenConnectionAsync();
        Assert.StartsWith(TlsMariaDb.IamUser + "@", await Scalar(connection, "SELECT CURRENT_USER()"), StringComparison.Ordinal);
    }

    [Fact]
    public void IamAuthenticationRaisesPreferredTlsToRequired()
    {
        var builder = new MySqlDataSourceBuilder("Server=db.example;User ID=app;Password=pw;SslMode=Preferred");
        DatabaseSecurity.ConfigureMySql(builder, new IamAuthenticationOptions { Enabled = true, Region = "eu-west-1" }, credentials: Unused());

        Assert.Equal(MySqlSslMode.Required, builder.ConnectionStringBuilder.SslMode);
        Assert.Equal("", builder.ConnectionStringBuilder.Password);
    }

    [Fact]
    public void IamAuthenticationRefusesToRunWithoutTls()
    {
        var builder = new MySqlDataSourceBuilder("Server=db.example;User ID=app;SslMode=None");
        var error = Assert.Throws<InvalidOperationException>(() =>
            DatabaseSecurity.ConfigureMySql(builder, new IamAuthenticationOptions { Enabled = true, Region = "eu-west-1" }, credentials: Unused()));

        Assert.Contains("Database:Tls:SslMode", error.Message, StringComparison.Ordinal);
    }

    private static AwsCredentialsProvider Unused() =>
        new(new AwsCredentialsProviderTests.FakeImds(DateTimeOffset.MaxValue), _ => null);

    private static async Task<string> Scalar(MySqlConnection connection, string sql)
    {
        await using var command = new MySqlCommand(sql, connection);
        return Convert.ToString(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture) ?? "";
    }
}
