using CustomerRecords.Api.Security;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Tests.Security;

public sealed class ConfigurationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crsec-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string, string, string> InvalidSettings => new()
    {
        // setting, value, text the error must name
        { "Auth:ApiKeys:0:Hash", "crk_a-plaintext-key-pasted-by-mistake-000000", "Auth:ApiKeys:0:Hash" },
        { "Auth:ApiKeys:0:Hash", "sha256:tooshort-secretish", "Auth:ApiKeys:0:Hash" },
        { "Auth:Jwt:Authority", "http://issuer.internal/secret-pool-id", "Auth:Jwt:Authority" },
        { "RateLimit:PermitLimit", "0", "RateLimit:PermitLimit" },
        { "Limits:MaxRequestBodySize", "-1", "Limits:MaxRequestBodySize" },
        { "Network:KnownNetworks:0", "ten-dot-zero", "Network:KnownNetworks:0" },
        { "Database:IamAuthentication:RefreshInterval", "00:20:00", "Database:IamAuthentication:RefreshInterval" },
    };

    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public async Task InvalidSettingStopsStartUpNamingItWithoutEchoingTheValue(string setting, string value, string named)
    {
        var config = new Dictionary<string, string?>
        {
            ["Auth:ApiKeys:0:Name"] = "svc",
            ["Auth:ApiKeys:0:Hash"] = ApiKeyHash.Hash("k"),
            ["Auth:ApiKeys:0:Scopes:0"] = Scopes.Read,
            ["Auth:Jwt:Audience"] = "aud",
            ["Auth:Jwt:Authority"] = "https://issuer.test",
            ["Database:IamAuthentication:Enabled"] = "true",
            ["Database:IamAuthentication:Region"] = "eu-west-1",
            [setting] = value,
        };

        var error = await Assert.ThrowsAnyAsync<Exception>(() => SecurityTestHost.StartAsync(config));
        var message = error is OptionsValidationException validation ? string.Join(" ", validation.Failures) : error.Message;

        Assert.Contains(named, message, StringComparison.Ordinal);
        Assert.DoesNotContain(value, message, StringComparison.Ordinal);
    }

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

    [Fact]
    public void HashKeyPrintsTheStoredForm()
    {
        using var output = new StringWriter();
        Assert.True(SecurityCommands.TryRunSecurityCommand(["hash-key", "crk_example"], output, TextReader.Null));
        Assert.Equal(ApiKeyHash.Hash("crk_example"), output.ToString().Trim());
        Assert.Matches("^sha256:[A-Za-z0-9_-]{43}$", output.ToString().Trim());
    }

    [Fact]
    public void HashKeyReadsTheKeyFromStandardInput()
    {
        using var output = new StringWriter();
        Assert.True(SecurityCommands.TryRunSecurityCommand(["hash-key"], output, new StringReader("crk_from_stdin\n")));
        Assert.Equal(ApiKeyHash.Hash("crk_from_stdin"), output.ToString().Trim());
    }

    [Fact]
    public void GenerateKeyPrintsAKeyAndItsHash()
    {
        using var output = new StringWriter();
        Assert.True(SecurityCommands.TryRunSecurityCommand(["generate-key", "crm-sync", Scopes.Read, Scopes.Write], output, TextReader.Null));
        var lines = output.ToString().Split('\n', StringSplitOptions.TrimEntries);
        var key = lines.Single(l => l.StartsWith("key:", StringComparison.Ordinal))[4..].Trim();
        var hash = lines.Single(l => l.StartsWith("hash:", StringComparison.Ordinal))[5..].Trim();

        Assert.Matches("^crk_[A-Za-z0-9_-]{43}$", key);
        Assert.Equal(ApiKeyHash.Hash(key), hash);
        Assert.Contains($"Auth__ApiKeys__0__Hash={hash}", lines);
        Assert.Contains("Auth__ApiKeys__0__Scopes__1=customers:write", lines);
    }

    [Fact]
    public void OtherArgumentsAreLeftToTheHost()
    {
        Assert.False(SecurityCommands.TryRunSecurityCommand([], TextWriter.Null, TextReader.Null));
        Assert.False(SecurityCommands.TryRunSecurityCommand(["--urls", "http://localhost:5000"], TextWriter.Null, TextReader.Null));
    }

    [Fact]
    public void GeneratedKeysAreUnique() => Assert.NotEqual(ApiKeyHash.GenerateKey(), ApiKeyHash.GenerateKey());
}
