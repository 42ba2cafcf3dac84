using CustomerRecords.Api.Data;
using CustomerRecords.Api.Secrets;
using Microsoft.Extensions.Configuration;
using MySqlConnector;

namespace CustomerRecords.Tests.Data;

public class ConnectionSettingsTests
{
    private static ConnectionSettings.Resolved Resolve(Dictionary<string, string?> values, string? provider = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        return ConnectionSettings.Resolve(configuration, new DatabaseOptions { Provider = provider ?? "sqlite" }, Path.GetTempPath());
    }

    [Fact]
    public void TheOriginalAppsDbVariablesSelectMySql()
    {
        var resolved = Resolve(new()
        {
            ["DB_HOST"] = "db.internal",
            ["DB_PORT"] = "3307",
            ["DB_NAME"] = "appdb",
            ["DB_USER"] = "admin",
            ["DB_PASSWORD"] = "s3cret",
        });

        Assert.Equal("mysql", resolved.Provider);
        var builder = new MySqlConnectionStringBuilder(resolved.Writer);
        Assert.Equal("db.internal", builder.Server);
        Assert.Equal(3307u, builder.Port);
        Assert.Equal("appdb", builder.Database);
        Assert.Equal("admin", builder.UserID);
        Assert.Equal("s3cret", builder.Password);
        Assert.DoesNotContain("s3cret", resolved.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void DbVariablesLayerOverTheConnectionStringsOtherOptions()
    {
        var resolved = Resolve(new()
        {
            ["ConnectionStrings:Customers"] = "Server=ignored;Database=ignored;SslMode=VerifyFull",
            ["DB_HOST"] = "writer.internal",
            ["DB_NAME"] = "customers",
        });

        var builder = new MySqlConnectionStringBuilder(resolved.Writer);
        Assert.Equal("writer.internal", builder.Server);
        Assert.Equal(MySqlSslMode.VerifyFull, builder.SslMode);
    }

    [Theory]
    [InlineData("Server=db;Database=app", true)]
    [InlineData("Server=db;Database=app;Connection Reset=true", true)]
    [InlineData("Server=db;Database=app;ConnectionReset=false", false)]
    public void PooledConnectionsAreResetUnlessTheStringSaysOtherwise(string connectionString, bool reset)
    {
        var resolved = Resolve(new()
        {
            ["ConnectionStrings:Customers"] = connectionString,
            ["ConnectionStrings:CustomersReadOnly"] = connectionString.Replace("Server=db", "Server=replica", StringComparison.Ordinal),
        }, "mysql");

        Assert.Equal(reset, new MySqlConnectionStringBuilder(resolved.Writer).ConnectionReset);
        Assert.Equal(reset, new MySqlConnectionStringBuilder(resolved.Reader!).ConnectionReset);
    }

    [Fact]
    public void SqliteIsTheDefaultWithAFileUnderData()
    {
        var resolved = Resolve([]);
        Assert.Equal("sqlite", resolved.Provider);
        Assert.Contains(Path.Combine(Path.GetTempPath(), "data", "customers.db"), resolved.Writer, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownProviderNamesTheSetting()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Resolve([], provider: "oracle"));
        Assert.Contains("Database:Provider", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MySqlWithoutServerSaysWhatToSet()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Resolve([], provider: "mysql"));
        Assert.Contains("ConnectionStrings:Customers", error.Message, StringComparison.Ordinal);
        Assert.Contains("DB_HOST", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidConnectionStringErrorNeverEchoesTheSecret()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Resolve(
            new() { ["ConnectionStrings:Customers"] = "Server=db;Password=hunter2;NoSuchOption=1" }, provider: "mysql"));
        Assert.Contains("ConnectionStrings:Customers", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadDbPortIsNamed()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Resolve(new() { ["DB_HOST"] = "db", ["DB_NAME"] = "x", ["DB_PORT"] = "abc" }));
        Assert.Contains("DB_PORT", error.Message, StringComparison.Ordinal);
    }
}
