using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.Deploy;

/// <summary>The CloudWatch agent configuration under deploy/ec2/, how install.sh and the stack install it, and whether it selects metrics the service really exposes.</summary>
[Collection(MariaDbCollection.Name)]
public sealed partial class CloudWatchAgentTests(MariaDbFixture mariaDb)
{
    private const string Install = "deploy/ec2/install.sh";
    private const string PrometheusConfig = "deploy/ec2/cloudwatch-prometheus.yaml";

    [Fact]
    public void AgentScrapesTheLoopbackMetricsEndpointIntoTheCustomerRecordsNamespaceAndReceivesOtlpOnLoopback()
    {
        var agent = CloudWatchAgentConfig.Load();
        var prometheus = Yaml.LoadFile(Repo.PathOf(PrometheusConfig));

        var job = Assert.Single(prometheus["scrape_configs"]!.AsArray())!;
        Assert.Equal("/metrics", (string?)job["metrics_path"]);
        Assert.Equal("127.0.0.1:8080", (string?)Assert.Single(job["static_configs"]![0]!["targets"]!.AsArray()));
        Assert.All(agent.Declarations, d => Assert.Matches((string)d["label_matcher"]!, (string)job["job_name"]!));
        Assert.Equal(CloudWatchAgentConfig.Namespace, (string?)agent.EmfProcessor["metric_namespace"]);
        Assert.Equal(CloudWatchAgentConfig.Namespace, (string?)agent.Root["metrics"]!["namespace"]);
        Assert.NotEmpty(agent.Selectors);

        // OTLP only on loopback, and at the address the stack gives the service by default.
        var otlp = agent.Otlp!;
        Assert.StartsWith("127.0.0.1:", (string?)otlp["grpc_endpoint"], StringComparison.Ordinal);
        Assert.StartsWith("127.0.0.1:", (string?)otlp["http_endpoint"], StringComparison.Ordinal);
        var stackDefault = CfnTemplate.Text(CfnTemplate.Load().Root["Parameters"]!["OtlpEndpoint"]!["Default"]);
        Assert.Equal($"http://{otlp["grpc_endpoint"]}", stackDefault);
    }

    [Fact]
    public void InstallScriptInstallsTheAgentWithDnfAndStartsItWithTheShippedConfigurationBeforeTheService()
    {
        var install = Repo.Read(Install);
        var agent = CloudWatchAgentConfig.Load();

        var dnf = install.IndexOf("dnf install -y amazon-cloudwatch-agent", StringComparison.Ordinal);
        var fetch = install.IndexOf("amazon-cloudwatch-agent-ctl\" -a fetch-config -m ec2 -s -c \"file:$agent_config\"", StringComparison.Ordinal);
        var restart = install.IndexOf("systemctl restart \"$service\"", StringComparison.Ordinal);
        Assert.True(dnf > 0 && fetch > dnf && restart > fetch, "dnf install, then fetch-config, then the service restart");
        Assert.Contains("readonly agent_config=$agent_dir/etc/customer-records.json", install, StringComparison.Ordinal);
        Assert.Contains("readonly agent_dir=/opt/aws/amazon-cloudwatch-agent", install, StringComparison.Ordinal);

        // The scrape configuration lands where the agent configuration looks for it.
        var installed = (string)agent.Prometheus["prometheus_config_path"]!;
        Assert.Equal("/opt/aws/amazon-cloudwatch-agent/etc/customer-records-prometheus.yaml", installed);
        Assert.Contains("install -m 0644 \"$here/cloudwatch-prometheus.yaml\" \"$agent_dir/etc/customer-records-prometheus.yaml\"", install, StringComparison.Ordinal);

        // The release archive carries both files, and the stack's instances ask for the agent with the stack's log group.
        var publish = Repo.Read("deploy/publish.sh");
        Assert.Contains("deploy/ec2/cloudwatch-agent.json\" \"$stage/cloudwatch-agent.json\"", publish, StringComparison.Ordinal);
        Assert.Contains("deploy/ec2/cloudwatch-prometheus.yaml\" \"$stage/cloudwatch-prometheus.yaml\"", publish, StringComparison.Ordinal);
        var template = Repo.Read(CfnTemplate.RelativePath);
        Assert.Contains("--cloudwatch-agent --cloudwatch-log-group '${PrometheusLogGroup}'", template, StringComparison.Ordinal);
        Assert.Equal("AWS::Logs::LogGroup", CfnTemplate.Load().TypeOf("PrometheusLogGroup"));
        Assert.Contains(
            $"sed \"s|\\\"{(string)agent.Prometheus["log_group_name"]!}\\\"|\\\"$cloudwatch_log_group\\\"|\"",
            install,
            StringComparison.Ordinal);
    }

    [Fact]
    public void InstanceRoleCarriesTheCloudWatchAgentServerPolicy()
    {
        var (_, role) = CfnTemplate.Load().Single("AWS::IAM::Role");

        Assert.Contains(CfnTemplate.Items(role["ManagedPolicyArns"]), arn =>
            (CfnTemplate.Text(arn!["Fn::Sub"]) ?? "").EndsWith(":iam::aws:policy/CloudWatchAgentServerPolicy", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EverySelectedMetricAndEveryDashboardMetricIsOneTheServiceExposesOverMySql()
    {
        var settings = CustomerApiFactory.MySqlSettings(await mariaDb.CreateDatabaseAsync());
        await using var factory = new CustomerApiFactory(settings);
        using var client = factory.CreateClient();

        // A write, a miss and a hit: the cache counters, the pool gauges and the request histogram all have values.
        using var created = await client.PostAsync(new Uri("/customers", UriKind.Relative), Json.Body(new { name = "Agent Check", email = Json.UniqueEmail("agent") }));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var location = created.Headers.Location!;
        for (var i = 0; i < 3; i++)
        {
            (await client.GetAsync(location)).EnsureSuccessStatusCode();
        }

        // An id nobody wrote is a miss (the database answers 404).
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(new Uri("/customers/987654321", UriKind.Relative))).StatusCode);

        var agent = CloudWatchAgentConfig.Load();
        var dashboard = CfnTemplate.Load().Resources["Dashboard"]!["Properties"]!["DashboardBody"]!["Fn::Sub"]![0]!.ToString();
        var searched = CloudWatchAgentConfig.DashboardServiceMetrics(dashboard);
        HashSet<string> families = [];
        // Instruments report as they are recorded and the exporter caches a scrape for 300 ms: poll, bounded.
        for (var attempt = 0; attempt < 25; attempt++)
        {
            families = Families(await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
            if (agent.Selectors.All(s => families.Any(s.IsMatch)) && searched.All(n => families.Contains(PrometheusName(n, families))))
            {
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(400));
        }

        Assert.All(agent.Selectors, s => Assert.True(families.Any(s.IsMatch), $"no metric of the service matches the agent's selector {s}"));
        Assert.All(searched, name => Assert.True(families.Contains(PrometheusName(name, families)), $"the dashboard's {name} is not a metric of the service"));
    }

    /// <summary>Metric names in a Prometheus text scrape (a histogram's _bucket/_sum/_count series counted under their own names too).</summary>
    private static HashSet<string> Families(string scrape) =>
        [.. scrape.Split('\n')
            .Where(l => l.Length > 0 && l[0] != '#')
            .Select(l => MetricName().Match(l).Value)];

    /// <summary>
    /// The Prometheus name of a dashboard metric: already one (underscores, from the EMF scrape), or an OpenTelemetry
    /// instrument name sent over OTLP, which the exporter writes with dots as underscores and a unit suffix.
    /// </summary>
    private static string PrometheusName(string name, HashSet<string> families)
    {
        if (!name.Contains('.', StringComparison.Ordinal))
        {
            return name;
        }

        var prefix = name.Replace('.', '_');
        return families.FirstOrDefault(f => f.StartsWith(prefix, StringComparison.Ordinal) && f.EndsWith("_count", StringComparison.Ordinal)) ?? prefix;
    }

    [GeneratedRegex(@"^[a-zA-Z_:][a-zA-Z0-9_:]*")]
    private static partial Regex MetricName();
}
