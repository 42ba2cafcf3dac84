using System.Text.Json.Nodes;

namespace CustomerRecords.Tests.Deploy;

/// <summary>Navigation over a parsed CloudFormation template (long-form intrinsics, see <see cref="Yaml"/>).</summary>
internal sealed class CfnTemplate(JsonObject root)
{
    public const string RelativePath = "deploy/cloudformation/customer-records.yaml";

    private static readonly Lazy<CfnTemplate> Shipped = new(() => new CfnTemplate(Yaml.LoadFile(Repo.PathOf(RelativePath))));

    public static CfnTemplate Load() => Shipped.Value;

    public JsonObject Root { get; } = root;

    public JsonObject Resources => Root[nameof(Resources)]!.AsObject();

    public IEnumerable<(string Id, JsonObject Properties)> OfType(string type) =>
        Resources
            .Where(r => (string?)r.Value!["Type"] == type)
            .Select(r => (r.Key, r.Value!["Properties"]?.AsObject() ?? []));

    public (string Id, JsonObject Properties) Single(string type) => Assert.Single(OfType(type));

    public string TypeOf(string id) => (string)Resources[id]!["Type"]!;

    public JsonObject PropertiesOf(string id) => Resources[id]!["Properties"]!.AsObject();

    /// <summary>The logical id a value points at through <c>Ref</c> or <c>Fn::GetAtt</c>; null for anything else.</summary>
    public static string? Target(JsonNode? node) => node switch
    {
        JsonObject o when o["Ref"] is JsonValue r => (string?)r,
        JsonObject o when o["Fn::GetAtt"] is JsonArray a => (string?)a[0],
        _ => null,
    };

    /// <summary>Items of a list property, with a single value treated as a one-item list.</summary>
    public static IEnumerable<JsonNode?> Items(JsonNode? node) => node switch
    {
        null => [],
        JsonArray a => a,
        // An array, not a collection expression: that would become a JsonArray and re-parent the node.
        _ => new[] { node },
    };

    public static bool IsTrue(JsonNode? node) => node is JsonValue v && string.Equals(v.ToString(), "true", StringComparison.OrdinalIgnoreCase);

    public static string? Text(JsonNode? node) => node is JsonValue v ? v.ToString() : null;

    /// <summary>Both branches of every <c>Fn::If</c>, without <c>AWS::NoValue</c>: what the template can ever produce.</summary>
    public static IEnumerable<JsonNode> Branches(JsonNode? node)
    {
        if (node is JsonObject o && o["Fn::If"] is JsonArray arguments)
        {
            return arguments.Skip(1).SelectMany(Branches);
        }

        if (node is JsonObject r && (string?)r["Ref"] == "AWS::NoValue")
        {
            return [];
        }

        return node is null ? [] : [node];
    }

    /// <summary>Every route out of a subnet to the internet gateway makes it public.</summary>
    public bool IsPrivateSubnet(string subnetId)
    {
        if (TypeOf(subnetId) != "AWS::EC2::Subnet" || IsTrue(PropertiesOf(subnetId)["MapPublicIpOnLaunch"]))
        {
            return false;
        }

        var routeTables = OfType("AWS::EC2::SubnetRouteTableAssociation")
            .Where(a => Target(a.Properties["SubnetId"]) == subnetId)
            .Select(a => Target(a.Properties["RouteTableId"]))
            .ToList();
        if (routeTables.Count == 0)
        {
            return false; // the VPC's main route table: not decided by this template
        }

        return !OfType("AWS::EC2::Route")
            .Where(r => routeTables.Contains(Target(r.Properties["RouteTableId"])))
            .Any(r => Target(r.Properties["GatewayId"]) is { } gateway && TypeOf(gateway) == "AWS::EC2::InternetGateway");
    }

    /// <summary>Ingress rules of a security group: inline ones and separate AWS::EC2::SecurityGroupIngress resources.</summary>
    public IReadOnlyList<JsonObject> IngressRules(string securityGroupId)
    {
        var inline = Items(PropertiesOf(securityGroupId)["SecurityGroupIngress"]).SelectMany(Branches).OfType<JsonObject>();
        var separate = OfType("AWS::EC2::SecurityGroupIngress")
            .Where(r => Target(r.Properties["GroupId"]) == securityGroupId)
            .Select(r => r.Properties);
        return [.. inline, .. separate];
    }

    /// <summary>Every statement of every IAM policy the template writes (roles' inline policies, policies, managed policies).</summary>
    public IEnumerable<JsonObject> PolicyStatements()
    {
        var documents = OfType("AWS::IAM::Role")
            .SelectMany(r => Items(r.Properties["Policies"]).SelectMany(Branches))
            .Select(p => p["PolicyDocument"])
            .Concat(OfType("AWS::IAM::Policy").Select(p => p.Properties["PolicyDocument"]))
            .Concat(OfType("AWS::IAM::ManagedPolicy").Select(p => p.Properties["PolicyDocument"]));

        return documents
            .SelectMany(d => Items(d?["Statement"]))
            .SelectMany(Branches)
            .Cast<JsonObject>();
    }
}
