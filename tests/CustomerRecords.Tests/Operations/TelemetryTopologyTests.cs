using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using CustomerRecords.Tests.Caching;
using CustomerRecords.Tests.Infrastructure;
using MySqlConnector;
using Xunit.Abstractions;

namespace CustomerRecords.Tests.Operations;

/// <summary>
/// Metrics and logs leave the host (Prometheus, OTLP, CloudWatch): they name connection pools by role,
/// never by connection string, so neither credentials nor the database's address, port or name reach them.
/// The service runs as its own process, as deployed: MySqlConnector's meter is process-wide, so in the
/// test process /metrics would also show the pools of every other test; and its stdout is the real console.
/// </summary>
public sealed partial class TelemetryTopologyTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PoolsAreNamedByRoleAndNoLabelOrLogLineCarriesTheConnectionString(bool withReplica)
    {
        await using var server = await MariaDbServer.StartAsync(); // its own: the test switches it read-only
        var writer = new MySqlConnectionStringBuilder(await server.CreateDatabaseAsync());
        var environment = new Dictionary<string, string>
        {
            ["Database__Provider"] = "mysql",
            ["ConnectionStrings__Customers"] = writer.ConnectionString,
            ["RateLimit__Enabled"] = "false",
        };
        if (withReplica)
        {
            // A reader endpoint string as operators write it: address only, credentials and database from the writer's.
            environment["ConnectionStrings__CustomersReadOnly"] = $"Server={writer.Server};Port={writer.Port}";
        }

        await using var service = await ServiceProcess.StartAsync(environment);
        await SomeTrafficAsync(service.Client);

        // A failover: the writer answers read-only, so the service replaces the writer pool; the new one keeps the role name.
        await server.ExecuteAsync("SET GLOBAL read_only = ON");
        using (var refused = await service.Client.PostAsync(new Uri("/customers", UriKind.Relative), Json.Body(new { name = "Refused", email = Json.UniqueEmail("telemetry") })))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }

        await server.ExecuteAsync("SET GLOBAL read_only = OFF");
        await SomeTrafficAsync(service.Client);

        var labels = await ScrapeLabelsAsync(service.Client);
        var lines = service.Output;
        var pools = labels.Where(l => l.Name == "pool_name").Select(l => l.Value).ToHashSet();
        output.WriteLine($"pool_name values: {string.Join(", ", pools)}; {labels.Count} label values scraped; {lines.Count} log lines");

        Assert.Contains(lines, line => line.Contains("\"EventId\":1101", StringComparison.Ordinal)); // the pool was replaced
        Assert.Equal(withReplica ? ["replica", "writer"] : ["writer"], pools.Order(StringComparer.Ordinal));
        var leaks = Leaks(writer);
        Assert.All(labels, l => Assert.False(leaks.Any(leak => Contains(l.Value, leak)), $"label {l.Name}=\"{l.Value}\" names the database or its credentials"));
        Assert.All(labels, l => Assert.NotEqual(writer.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), l.Value));
        Assert.All(lines, line => Assert.False(
            leaks.Except(NamesTheDatabaseOnPurpose(line) ? [writer.Database] : []).Any(leak => Contains(line, leak)),
            $"a log line carries the connection string or its parts: {line}"));
    }

    /// <summary>Creates, reads (hit and miss), lists and patches, so every pool opens connections.</summary>
    private static async Task SomeTrafficAsync(HttpClient client)
    {
        for (var i = 0; i < 3; i++)
        {
            using var created = await client.PostAsync(new Uri("/customers", UriKind.Relative), Json.Body(new { name = "Metric", email = Json.UniqueEmail("telemetry") }));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var location = created.Headers.Location!;
            (await client.GetAsync(location)).EnsureSuccessStatusCode();
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(new Uri($"/customers/{900_000 + i}", UriKind.Relative))).StatusCode);
            (await client.GetAsync(new Uri("/customers?limit=5", UriKind.Relative))).EnsureSuccessStatusCode();
            using var patch = new HttpRequestMessage(HttpMethod.Patch, location) { Content = Json.Body(new { name = "Patched" }, "application/merge-patch+json") };
            (await client.SendAsync(patch)).EnsureSuccessStatusCode();
        }
    }

    /// <summary>Every label of every sample; polls because the exporter caches a scrape and pools report late.</summary>
    private static async Task<List<(string Name, string Value)>> ScrapeLabelsAsync(HttpClient client)
    {
        var labels = new List<(string Name, string Value)>();
        for (var attempt = 0; attempt < 20; attempt++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(attempt == 0 ? 0 : 350));
            using var response = await client.GetAsync(new Uri("/metrics", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await response.Content.ReadAsStringAsync();
            labels = body.Split('\n')
                .Where(line => !line.StartsWith('#'))
                .SelectMany(line => Label().Matches(line).Select(m => (m.Groups["name"].Value, Regex.Unescape(m.Groups["value"].Value))))
                .Distinct()
                .ToList();
            if (labels.Any(l => l.Name == "pool_name"))
            {
                break;
            }
        }

        return labels;
    }

    /// <summary>What must not leave the host: connection-string keywords, the credentials, the database's name and address.</summary>
    private static string[] Leaks(MySqlConnectionStringBuilder writer) =>
    [
        "Server=", "User ID=", "Password=", "Database=", "Port=",
        writer.UserID, writer.Password, writer.Database,
        $"{writer.Server}:{writer.Port}",
    ];

    /// <summary>The one start-up line that tells the operator which database this instance uses (its name and host, no credentials).</summary>
    private static bool NamesTheDatabaseOnPurpose(string line) =>
        line.Contains("\"EventId\":1000,", StringComparison.Ordinal) && line.Contains("\"Category\":\"CustomerRecords.Api.Data\"", StringComparison.Ordinal);

    private static bool Contains(string text, string leak) => text.Contains(leak, StringComparison.OrdinalIgnoreCase);

    [GeneratedRegex("""(?<name>[a-zA-Z_][a-zA-Z0-9_]*)="(?<value>(?:[^"\\]|\\.)*)"\s*[,}]""")]
    private static partial Regex Label();

    /// <summary>The built service run as deployed (Production, its own appsettings.json), its console captured line by line.</summary>
    private sealed class ServiceProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _output = new();

        private ServiceProcess(Process process, int port)
        {
            _process = process;
            Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };
        }

        public HttpClient Client { get; }

        public IReadOnlyList<string> Output => _output.ToArray();

        public static async Task<ServiceProcess> StartAsync(Dictionary<string, string> environment)
        {
            var port = FreePort.Get();

            // Settings through the environment (as the systemd unit's EnvironmentFile does), never on the command line.
            var start = new ProcessStartInfo("dotnet")
            {
                WorkingDirectory = AppContext.BaseDirectory, // the content root, where appsettings.json is
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "CustomerRecords.Api.dll"));
            start.ArgumentList.Add("--urls");
            start.ArgumentList.Add($"http://127.0.0.1:{port}");
            start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
            start.Environment["DOTNET_ENVIRONMENT"] = "Production";
            foreach (var (name, value) in environment)
            {
                start.Environment[name] = value;
            }

            var process = Process.Start(start)!;
            ChildProcessRegistry.Add(process);
            var service = new ServiceProcess(process, port);
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is { Length: > 0 } line)
                {
                    service._output.Enqueue(line);
                }
            };
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is { Length: > 0 } line)
                {
                    service._output.Enqueue(line);
                }
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                await Eventually.WithinAsync(TimeSpan.FromSeconds(60), "the service answers /health/ready", async () =>
                {
                    Assert.False(process.HasExited, $"the service exited: {string.Join('\n', service.Output)}");
                    try
                    {
                        return (await service.Client.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode == HttpStatusCode.OK;
                    }
                    catch (HttpRequestException)
                    {
                        return false; // not listening yet
                    }
                });
            }
            catch
            {
                await service.DisposeAsync();
                throw;
            }

            // Every stdout line of the JSON console is one JSON document: a broken line would hide what it says.
            Assert.All(service.Output, line => JsonDocument.Parse(line).Dispose());
            return service;
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            await _process.WaitForExitAsync();
            ChildProcessRegistry.Remove(_process);
            _process.Dispose();
        }
    }
}
