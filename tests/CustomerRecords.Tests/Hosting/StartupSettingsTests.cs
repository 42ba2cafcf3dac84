using CustomerRecords.Api.Auth;
using CustomerRecords.Tests.Auth;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Tests.Hosting;

public sealed class StartupSettingsTests
{
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
}
