using System.Net;
using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.Data;

public class StartupTests
{
    [Fact]
    public void InvalidProviderStopsStartupWithAMessageNamingTheSetting()
    {
        using var factory = new CustomerApiFactory(new Dictionary<string, string?> { ["Database:Provider"] = "postgres" });
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        Assert.Contains("Database:Provider", Flatten(error), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SeedingCanBeTurnedOff()
    {
        using var directory = new TempDirectory();
        var settings = CustomerApiFactory.SqliteSettings(directory.Path);
        settings["Database:SeedSampleData"] = "false";
        await using var factory = new CustomerApiFactory(settings);
        using var client = factory.CreateClient();

        var page = await (await client.GetAsync("/customers")).ReadObjectAsync();

        Assert.Empty(page["items"]!.AsArray());
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    [Fact]
    public async Task MigrateCommandCreatesTheSchemaAndExits()
    {
        using var directory = new TempDirectory();
        var database = Path.Combine(directory.Path, "migrated.db");
        var exitCode = await RunServiceAsync(directory.Path, "migrate", $"--ConnectionStrings:Customers=Data Source={database}");
        Assert.Equal(0, exitCode);
        Assert.True(File.Exists(database));

        await using var factory = new CustomerApiFactory(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Customers"] = $"Data Source={database}",
            ["Database:MigrateOnStartup"] = "false",
        });
        using var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/customers/1")).StatusCode);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    /// <summary>Runs the service's own binary, as an operator would, and returns its exit code.</summary>
    private static async Task<int> RunServiceAsync(string workingDirectory, params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "CustomerRecords.Api.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        await Task.WhenAll(output, errors);
        return process.ExitCode;
    }

    private static string Flatten(Exception error) =>
        error.InnerException is null ? error.Message : error.Message + " | " + Flatten(error.InnerException);
}
