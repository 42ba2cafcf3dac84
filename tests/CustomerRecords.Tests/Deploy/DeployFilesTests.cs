using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace CustomerRecords.Tests.Deploy;

/// <summary>The container, compose, systemd and shell files under deploy/ (there is no Docker engine to run them here).</summary>
public partial class DeployFilesTests
{
    private const string Unit = "deploy/ec2/customer-records.service";

    [Fact]
    public void ComposeRunsTwoServiceInstancesBehindAProxyWithMySqlAndRedis()
    {
        var services = Yaml.LoadFile(Repo.PathOf("deploy/docker/compose.yaml"))["services"]!.AsObject();

        var apis = services
            .Where(s => (string?)s.Value!["build"]?["dockerfile"] == "deploy/docker/Dockerfile" && s.Value["command"] is null)
            .ToList();
        var replicas = apis.Sum(s => int.Parse((string?)s.Value!["deploy"]?["replicas"] ?? "1", System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(replicas >= 2, $"expected two API instances, found {replicas}");
        Assert.StartsWith("mysql:8", (string?)services["mysql"]?["image"], StringComparison.Ordinal);
        Assert.StartsWith("redis:7", (string?)services["redis"]?["image"], StringComparison.Ordinal);
        var proxy = services["proxy"]!;
        Assert.Contains("nginx", (string?)proxy["image"], StringComparison.Ordinal);
        var nginx = Repo.Read("deploy/docker/nginx.conf");
        Assert.All(apis, api => Assert.Contains($"server {api.Key}:8080", nginx, StringComparison.Ordinal));
    }

    [Fact]
    public void ComposeAppliesMigrationsBeforeTheInstancesStart()
    {
        var services = Yaml.LoadFile(Repo.PathOf("deploy/docker/compose.yaml"))["services"]!.AsObject();

        var migrate = services["migrate"]!;
        Assert.Equal("migrate", (string?)migrate["command"]![0]);
        Assert.All(services.Where(s => s.Key.StartsWith("api", StringComparison.Ordinal)), api =>
            Assert.Equal("service_completed_successfully", (string?)api.Value!["depends_on"]?["migrate"]?["condition"]));
    }

    [Fact]
    public void ComposeTakesEveryPasswordFromTheUncommittedEnvFile()
    {
        var compose = Repo.Read("deploy/docker/compose.yaml");

        // Each password is a ${VARIABLE} interpolation, read from deploy/docker/.env, which git ignores.
        Assert.DoesNotMatch(LiteralPassword(), compose);
        Assert.Matches(@"Password=\$\{MYSQL_PASSWORD", compose);
        var example = Repo.Read("deploy/docker/.env.example");
        Assert.All(example.Split('\n').Where(l => l.Contains('=', StringComparison.Ordinal) && !l.StartsWith('#')),
            line => Assert.EndsWith("=", line.TrimEnd()));
    }

    [Fact]
    public void ImageIsMultiStageAndRunsAsNonRoot()
    {
        var lines = Repo.Read("deploy/docker/Dockerfile").Split('\n').Select(l => l.Trim()).ToList();

        var stages = lines.Select((line, index) => (line, index)).Where(l => l.line.StartsWith("FROM ", StringComparison.Ordinal)).ToList();
        Assert.True(stages.Count >= 2, "multi-stage build");
        var final = lines.Skip(stages[^1].index).ToList();
        var user = Assert.Single(final, l => l.StartsWith("USER ", StringComparison.Ordinal));
        Assert.DoesNotMatch(@"^USER\s+(root|0)(:|\s|$)", user);
        Assert.Contains(final, l => l.StartsWith("EXPOSE 8080", StringComparison.Ordinal));
        Assert.DoesNotContain(final, l => l.Contains("/sdk:", StringComparison.Ordinal));
    }

    [Fact]
    public void DockerIgnoreKeepsBuildOutputAndSecretsOutOfTheContext()
    {
        var ignored = Repo.Read(".dockerignore").Split('\n').Select(l => l.Trim()).ToList();

        Assert.Contains("**/bin/", ignored);
        Assert.Contains("**/obj/", ignored);
        Assert.Contains("**/.env", ignored);
    }

    [Fact]
    public void SystemdUnitIsANotifyServiceRunningHardenedAsItsOwnUser()
    {
        var service = UnitSection("Service");

        Assert.Equal("notify", service["Type"]);
        Assert.Equal("customer-records", service["User"]);
        Assert.Equal("yes", service["NoNewPrivileges"]);
        Assert.Equal("strict", service["ProtectSystem"]);
        Assert.Equal("yes", service["ProtectHome"]);
        Assert.Equal("yes", service["PrivateTmp"]);
        Assert.Equal("", service["CapabilityBoundingSet"]);
        Assert.Equal("on-failure", service["Restart"]);
        Assert.Equal("/etc/customer-records/customer-records.env", service["EnvironmentFile"]);
        Assert.Equal("/opt/customer-records/CustomerRecords.Api", service["ExecStart"]);
        Assert.True(service.ContainsKey("TimeoutStopSec") && service.ContainsKey("RestartSec") && service.ContainsKey("MemoryMax"));
        Assert.False(service.ContainsKey("DynamicUser"));
    }

    [Fact]
    public void SystemdAcceptsTheUnitWhereSystemdAnalyzeExists()
    {
        var result = Repo.TryRun("systemd-analyze", ["verify", Repo.PathOf(Unit)], TimeSpan.FromMinutes(1));
        if (result is null)
        {
            return; // Not every machine has systemd; the structural test above still holds.
        }

        // The binary exists only on a deployed host; anything else systemd reports is a real problem.
        var problems = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => !l.Contains("/opt/customer-records/CustomerRecords.Api is not executable", StringComparison.Ordinal))
            .ToList();
        Assert.Empty(problems);
    }

    [Theory]
    [InlineData("deploy/ec2/install.sh")]
    [InlineData("deploy/ec2/customer-records")]
    [InlineData("deploy/publish.sh")]
    public void ShellScriptsParse(string script)
    {
        var result = Repo.TryRun("bash", ["-n", Repo.PathOf(script)], TimeSpan.FromMinutes(1));

        Assert.NotNull(result);
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.StartsWith("#!/usr/bin/env bash", Repo.Read(script), StringComparison.Ordinal);
    }

    [Fact]
    public void InstallScriptMigratesBeforeStartingAndLocksDownTheEnvironmentFile()
    {
        var install = Repo.Read("deploy/ec2/install.sh");

        var migrate = install.IndexOf("\"$cli\" migrate", StringComparison.Ordinal);
        var restart = install.IndexOf("systemctl restart", StringComparison.Ordinal);
        Assert.True(migrate > 0 && restart > migrate, "migrate runs before the service (re)starts");
        Assert.Contains("install -m 0640 -o root -g \"$service\"", install, StringComparison.Ordinal);
        Assert.Contains("useradd --system", install, StringComparison.Ordinal);
    }

    [Fact]
    public void EnvironmentExampleUsesTheServiceSettingNamesAndHoldsNoSecrets()
    {
        var example = Repo.Read("deploy/ec2/customer-records.env.example");

        foreach (var key in new[]
                 {
                     "ASPNETCORE_URLS=", "Database__Provider=mysql", "ConnectionStrings__Customers=", "Database__IamAuthentication__Enabled=true",
                     "Database__IamAuthentication__Region=", "Cache__Mode=redis", "ConnectionStrings__Redis=",
                 })
        {
            Assert.Contains(key, example, StringComparison.Ordinal);
        }

        // Anything secret is a <placeholder>.
        Assert.All(example.Split('\n').Where(l => SecretLine().IsMatch(l)), line => Assert.Contains('<', line));
    }

    private static Dictionary<string, string> UnitSection(string name)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var current = "";
        foreach (var raw in Repo.Read(Unit).Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            if (line.StartsWith('['))
            {
                current = line.Trim('[', ']');
                continue;
            }

            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (current == name && eq > 0)
            {
                // Later assignments win, as in systemd (except for list settings, which this test does not read).
                values[line[..eq]] = line[(eq + 1)..];
            }
        }

        return values;
    }

    // "password" as a key (not inside a ${VARIABLE:?message}) whose value is not an interpolation.
    [GeneratedRegex(@"(?i)(?<!\$\{\w*)password\s*[:=]\s*(?!\$\{)[^\s;""]+")]
    private static partial Regex LiteralPassword();

    [GeneratedRegex(@"(?i)(password|_hash|__hash)\s*=")]
    private static partial Regex SecretLine();
}
