using System.Net;
using System.Net.Sockets;
using CustomerRecords.Tests.Cli;
using CustomerRecords.Tests.Infrastructure;
using MySqlConnector;
using Xunit.Abstractions;

namespace CustomerRecords.Tests.Hosting;

/// <summary>
/// Every way the real binary can fail to start ends the same way: exit code 1 and one message on standard error
/// that names the setting or the address and the fix, with no stack trace and no "Unhandled exception".
/// </summary>
public sealed class StartupFailureTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("--Database:Provider=postgres", "Database:Provider must be 'sqlite' or 'mysql' (it is 'postgres')")]
    [InlineData("--RateLimit:PermitLimit=0", "RateLimit:PermitLimit must be at least 1")]
    [InlineData("--Database:StartupTimeout=02:00:00", "Database:StartupTimeout")]
    [InlineData("--RateLimit:Store=Redis", "RateLimit:Store is Redis but ConnectionStrings:Redis is empty")]
    [InlineData("--Cache:IamAuthentication:Enabled=true", "Cache:IamAuthentication:UserId is required")]
    public async Task AnInvalidSettingIsNamed(string setting, string named)
    {
        using var directory = new TempDirectory();

        var run = await ServiceBinary.RunAsync(directory.Path, [ServiceBinary.AsDeployed, Sqlite(directory.Path), setting]);

        var message = AssertOneFailure(run, output);
        Assert.Contains(named, message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(directory.Path, "customers.db")), "settings are checked before the database is touched");
    }

    [Fact]
    public async Task AnUnreadableSecretFileNamesItsVariable()
    {
        using var directory = new TempDirectory();

        var run = await ServiceBinary.RunAsync(directory.Path, [ServiceBinary.AsDeployed, Sqlite(directory.Path)], new Dictionary<string, string> { ["DB_PASSWORD_FILE"] = "/nonexistent" });

        var message = AssertOneFailure(run, output);
        Assert.Contains("environment variable DB_PASSWORD_FILE", message, StringComparison.Ordinal);
        Assert.Contains("/nonexistent", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APortInUseIsNamed()
    {
        using var directory = new TempDirectory();
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;

        var run = await ServiceBinary.RunAsync(directory.Path, [ServiceBinary.AsDeployed, "--urls", $"http://127.0.0.1:{port}", Sqlite(directory.Path)]);

        var message = AssertOneFailure(run, output);
        Assert.Contains($"cannot listen on http://127.0.0.1:{port}: the address is already in use", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARefusedExposureSaysHowToConfigureAuthentication()
    {
        using var directory = new TempDirectory();
        var port = FreePort.Get();

        var run = await ServiceBinary.RunAsync(directory.Path, [ServiceBinary.AsDeployed, "--urls", $"http://0.0.0.0:{port}", Sqlite(directory.Path)]);

        var message = AssertOneFailure(run, output);
        Assert.Contains($"Refusing to start: no authentication is configured and the server would listen on http://0.0.0.0:{port}", message, StringComparison.Ordinal);
        Assert.Contains("Auth:AllowAnonymous=true", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnreachableDatabaseIsRetriedUntilTheStartupTimeoutThenNamed()
    {
        using var directory = new TempDirectory();
        var port = FreePort.Get(); // nothing listens there
        const string Password = "never-printed-7f3a";

        var run = await ServiceBinary.RunAsync(directory.Path,
        [
            ServiceBinary.AsDeployed,
            "--Database:Provider=mysql",
            $"--ConnectionStrings:Customers=Server=127.0.0.1;Port={port};Database=x;User ID=y;Password={Password}",
            "--Database:StartupTimeout=00:00:03",
        ]);

        var message = AssertOneFailure(run, output);
        Assert.Contains($"Cannot reach the MySQL database at 127.0.0.1:{port}: no answer within Database:StartupTimeout (00:00:03", message, StringComparison.Ordinal);
        Assert.InRange(run.Elapsed, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(30));

        // Each attempt is logged with its number, the address and the next delay.
        Assert.Contains($"Database 127.0.0.1:{port} did not answer (attempt 1: ", run.Out, StringComparison.Ordinal);
        Assert.Contains("attempt 2: ", run.Out, StringComparison.Ordinal);
        Assert.Contains("next attempt in 0.5 s", run.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, run.Out + run.Error, StringComparison.Ordinal);
    }

    /// <summary>The common shape of a failed start; returns the message.</summary>
    internal static string AssertOneFailure(ServiceBinary.Result run, ITestOutputHelper output)
    {
        output.WriteLine(run.ToString());
        Assert.True(run.ExitCode == 1, run.ToString());
        var message = run.Error.Trim();
        Assert.StartsWith("Start-up failed: ", message, StringComparison.Ordinal);
        Assert.Equal(1, Count(message, "Start-up failed"));
        Assert.DoesNotContain("Unhandled exception", run.Error + run.Out, StringComparison.Ordinal);

        // No stack trace: not in the message, not in a log line (where JSON would escape its line breaks).
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("\\n   at ", run.Out, StringComparison.Ordinal);
        return message;
    }

    private static string Sqlite(string directory) => $"--ConnectionStrings:Customers=Data Source={Path.Combine(directory, "customers.db")}";

    private static int Count(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}

/// <summary>A real MariaDB that answers and refuses: the message names the user and the address, never the password.</summary>
[Collection(MariaDbCollection.Name)]
public sealed class StartupFailureMariaDbTests(MariaDbFixture mariaDb, ITestOutputHelper output)
{
    [Fact]
    public async Task ADatabaseThatRejectsTheSignInNamesTheUserAndFailsAtOnce()
    {
        using var directory = new TempDirectory();
        var connectionString = new MySqlConnectionStringBuilder(await mariaDb.CreateDatabaseAsync());
        var rightPassword = connectionString.Password;
        connectionString.Password = "wrong-password-5d1c";

        var run = await ServiceBinary.RunAsync(directory.Path,
        [
            ServiceBinary.AsDeployed,
            "--Database:Provider=mysql",
            $"--ConnectionStrings:Customers={connectionString.ConnectionString}",
        ]);

        var message = StartupFailureTests.AssertOneFailure(run, output);
        Assert.Contains(
            $"The MySQL server at {connectionString.Server}:{connectionString.Port} refused the sign-in: access was denied for user '{connectionString.UserID}'",
            message,
            StringComparison.Ordinal);
        Assert.Contains("Check User ID and Password in ConnectionStrings:Customers", message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-password-5d1c", run.Out + run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(rightPassword, run.Out + run.Error, StringComparison.Ordinal);

        // Not retried for Database:StartupTimeout (60 s): a wrong password does not get better by waiting.
        Assert.InRange(run.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(20));
    }
}
