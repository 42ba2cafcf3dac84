using CustomerRecords.Api.Cli;
using CustomerRecords.Api.Data;
using CustomerRecords.Api.Hosting;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Tests.Cli;

/// <summary>What the framework's own start-up exceptions become: one message that names the setting or address.</summary>
public sealed class StartupFailureMessageTests
{
    [Fact]
    public void EveryValidationFailureIsListedWithItsSetting()
    {
        var error = new AggregateException(
            new OptionsValidationException("", typeof(RateLimitOptions), ["RateLimit:PermitLimit must be at least 1."]),
            new OptionsValidationException("", typeof(DatabaseOptions),
                ["DataAnnotation validation failed for 'DatabaseOptions' members: 'StartupTimeout' with the error: 'The field StartupTimeout must be between 00:00:00 and 01:00:00.'."]));

        var message = StartupFailure.Explain(error);

        Assert.StartsWith("invalid settings:", message, StringComparison.Ordinal);
        Assert.Contains("  - RateLimit:PermitLimit must be at least 1.", message, StringComparison.Ordinal);
        Assert.Contains("  - Database:StartupTimeout: The field StartupTimeout must be between 00:00:00 and 01:00:00.", message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnAddressInUseIsNamed()
    {
        var error = new IOException(
            "Failed to bind to address http://127.0.0.1:5080: address already in use.",
            new AddressInUseException("Address already in use"));

        var message = StartupFailure.Explain(error);

        Assert.StartsWith("cannot listen on http://127.0.0.1:5080: the address is already in use", message, StringComparison.Ordinal);
        Assert.Contains("--urls", message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnreadableFileSaysWhy()
    {
        var error = new InvalidOperationException(
            "Cannot read the secret file named by environment variable DB_PASSWORD_FILE: FileNotFoundException.",
            new FileNotFoundException("Could not find file '/run/secrets/missing'."));

        Assert.Equal(
            "Cannot read the secret file named by environment variable DB_PASSWORD_FILE: FileNotFoundException: Could not find file '/run/secrets/missing'. Check the path, and that this user may read the file.",
            StartupFailure.Explain(error));
    }

    [Fact]
    public void OnlyDetailsShowTheStackTrace()
    {
        Exception error;
        try
        {
            throw new InvalidOperationException("Database:Provider must be 'sqlite' or 'mysql' (it is 'postgres').");
        }
        catch (InvalidOperationException e)
        {
            error = e;
        }

        Assert.Equal("Start-up failed: Database:Provider must be 'sqlite' or 'mysql' (it is 'postgres').", StartupFailure.Describe("Start-up failed", error, details: false));
        Assert.Contains("   at ", StartupFailure.Describe("Start-up failed", error, details: true), StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnexpectedFailureNamesItsTypeAndTheWayToMore()
    {
        var message = StartupFailure.Explain(new NotSupportedException("Something else."));

        Assert.Equal("Something else. (NotSupportedException; run with --verbose for the stack trace)", message);
    }
}
