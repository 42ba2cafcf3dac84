using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace CustomerRecords.Tests.Deploy;

/// <summary>deploy/ec2/cloudwatch-agent.json: which service metrics the CloudWatch agent sends to CloudWatch.</summary>
internal sealed partial class CloudWatchAgentConfig(JsonObject root)
{
    public const string RelativePath = "deploy/ec2/cloudwatch-agent.json";
    public const string Namespace = "CustomerRecords";

    public JsonObject Root { get; } = root;

    public static CloudWatchAgentConfig Load() => new(JsonNode.Parse(Repo.Read(RelativePath))!.AsObject());

    public JsonObject Prometheus => Root["logs"]!["metrics_collected"]!["prometheus"]!.AsObject();

    public JsonObject EmfProcessor => Prometheus["emf_processor"]!.AsObject();

    public IReadOnlyList<JsonObject> Declarations => [.. EmfProcessor["metric_declaration"]!.AsArray().Cast<JsonObject>()];

    public IReadOnlyList<Regex> Selectors => [.. Declarations
        .SelectMany(d => d["metric_selectors"]!.AsArray())
        .Select(s => new Regex((string)s!, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)))];

    public JsonObject? Otlp => Root["metrics"]?["metrics_collected"]?["otlp"]?.AsObject();

    /// <summary>
    /// Whether a CloudWatch metric name reaches CloudWatch: a Prometheus name (underscores) picked by an EMF
    /// selector, or an OpenTelemetry instrument name (dots) received over OTLP.
    /// </summary>
    public bool Collects(string metricName) =>
        metricName.Contains('.', StringComparison.Ordinal)
            ? Otlp is not null
            : Selectors.Any(s => s.IsMatch(metricName));

    /// <summary>The MetricName of every SEARCH over the service's namespace in a dashboard body.</summary>
    public static IReadOnlyList<string> DashboardServiceMetrics(string dashboardBody) =>
        [.. SearchedMetric().Matches(dashboardBody).Select(m => m.Groups[1].Value).Distinct(StringComparer.Ordinal)];

    // In the template text the quotes inside the SEARCH string are JSON-escaped: Namespace=\"CustomerRecords\".
    [GeneratedRegex(@"SEARCH\('Namespace=\\""CustomerRecords\\"" MetricName=\\""([^\\""]+)\\""")]
    private static partial Regex SearchedMetric();
}
