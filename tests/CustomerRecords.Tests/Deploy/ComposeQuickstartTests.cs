using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using CustomerRecords.Tests.Caching;
using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.Deploy;

/// <summary>
/// The container quickstart starts as shipped: the service's binary, run with the environment of
/// deploy/docker/compose.yaml and of the image (Production, listening on every interface), migrates, starts
/// and serves. There is no Docker engine here, so the database and Redis hosts are the test's own servers;
/// every other setting is the file's.
/// </summary>
[Collection(MariaDbRedisCollection.Name)]
public sealed partial class ComposeQuickstartTests(MariaDbRedisFixture servers)
{
    [Fact]
    public async Task TheComposeEnvironmentMigratesStartsAndServes()
    {
        var environment = await ComposeEnvironmentAsync();

        var (migrated, migrateOutput) = await RunToExitAsync(environment, "migrate");
        Assert.True(migrated == 0, $"migrate exited {migrated}: {migrateOutput}");

        var port = FreePort.Get();
        environment["ASPNETCORE_HTTP_PORTS"] = port.ToString(CultureInfo.InvariantCulture); // the image's setting: every interface
        using var service = Start(environment);
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
            await Eventually.WithinAsync(TimeSpan.FromSeconds(60), "the compose-configured service is ready", async () =>
            {
                if (service.HasExited)
                {
                    Assert.Fail("the service exited: " + await service.StandardError.ReadToEndAsync());
                }

                try
                {
                    return (await client.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }, TimeSpan.FromMilliseconds(200));

            using var created = await client.PostAsync("/customers", Json.Body(new { name = "Compose Quickstart", email = Json.UniqueEmail("compose") }));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            using var list = await client.GetAsync("/customers");
            Assert.Equal(HttpStatusCode.OK, list.StatusCode);
            Assert.Single((await list.ReadObjectAsync())["items"]!.AsArray()); // no sample customers: SeedSampleData is false there
        }
        finally
        {
            service.Kill(entireProcessTree: true);
            await service.WaitForExitAsync();
        }
    }

    private async Task<Dictionary<string, string>> ComposeEnvironmentAsync()
    {
        var compose = Yaml.LoadFile(Repo.PathOf("deploy/docker/compose.yaml"));
        var settings = compose["services"]!["api-1"]!["environment"]!.AsObject();
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["MYSQL_PASSWORD"] = "unused-here",
            ["REDIS_PASSWORD"] = "unused-here",
            ["CURSOR_KEY"] = "a-cursor-key-for-the-compose-test-0123456789",
        };
        var environment = settings.ToDictionary(
            s => s.Key,
            s => Interpolation().Replace((string)s.Value!, m => values[m.Groups[1].Value]),
            StringComparer.Ordinal);

        // The image's own environment (deploy/docker/Dockerfile).
        environment["DOTNET_ENVIRONMENT"] = "Production";

        // The hosts 'mysql' and 'redis' exist only inside compose's network.
        environment["ConnectionStrings__Customers"] = await servers.CreateDatabaseAsync();
        environment["ConnectionStrings__Redis"] = servers.Redis.ConnectionString + ",abortConnect=false";
        return environment;
    }

    private static Process Start(Dictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = TempDirectory.ForRun(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "CustomerRecords.Api.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("ASPNETCORE_", StringComparison.Ordinal) || k.StartsWith("DOTNET_ENVIRONMENT", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start)!;
        _ = process.StandardOutput.ReadToEndAsync();
        return process;
    }

    private static async Task<(int ExitCode, string Errors)> RunToExitAsync(Dictionary<string, string> environment, params string[] args)
    {
        using var process = Start(environment, args);
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await errors);
    }

    [GeneratedRegex(@"\$\{(\w+)(?::\?[^}]*)?\}")]
    private static partial Regex Interpolation();
}
