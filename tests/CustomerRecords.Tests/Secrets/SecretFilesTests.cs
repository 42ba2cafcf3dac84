using CustomerRecords.Api.Secrets;
using Microsoft.Extensions.Configuration;

namespace CustomerRecords.Tests.Secrets;

public sealed class SecretFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crsec-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void KeyPerFileSecretsBecomeConfiguration()
    {
        File.WriteAllText(Path.Combine(_dir, "Auth__ApiKeys__0__Hash"), "sha256:abc\n");
        File.WriteAllText(Path.Combine(_dir, "ConnectionStrings__Default"), "Server=db;Password=p");

        var configuration = new ConfigurationBuilder()
            .AddSecretFiles(new Dictionary<string, string> { ["CREDENTIALS_DIRECTORY"] = _dir })
            .Build();

        Assert.Equal("sha256:abc", configuration["Auth:ApiKeys:0:Hash"]);
        Assert.Equal("Server=db;Password=p", configuration["ConnectionStrings:Default"]);
    }

    [Fact]
    public void FileVariablesSetTheirSettingWithoutTheTrailingNewline()
    {
        var password = Path.Combine(_dir, "db_password");
        var audience = Path.Combine(_dir, "aud");
        File.WriteAllText(password, "s3cr3t\n");
        File.WriteAllText(audience, "client-id\r\n");

        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["DB_PASSWORD"] = "from-env" })
            .AddSecretFiles(new Dictionary<string, string>
            {
                ["DB_PASSWORD_FILE"] = password,
                ["Auth__Jwt__Audience_FILE"] = audience,
                ["TF_CLI_CONFIG_FILE"] = "/nonexistent/tool/setting",
            })
            .Build();

        Assert.Equal("s3cr3t", configuration["DB_PASSWORD"]);
        Assert.Equal("client-id", configuration["Auth:Jwt:Audience"]);
        Assert.Null(configuration["TF_CLI_CONFIG"]);
    }

    [Fact]
    public void MissingSecretFileIsReportedByVariableName()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new ConfigurationBuilder()
            .AddSecretFiles(new Dictionary<string, string> { ["DB_PASSWORD_FILE"] = Path.Combine(_dir, "missing") })
            .Build());

        Assert.Contains("DB_PASSWORD_FILE", error.Message, StringComparison.Ordinal);
    }
}
