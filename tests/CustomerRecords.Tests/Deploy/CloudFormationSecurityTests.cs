using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace CustomerRecords.Tests.Deploy;

/// <summary>The security posture of deploy/cloudformation/customer-records.yaml, read from the template itself.</summary>
public partial class CloudFormationSecurityTests
{
    // AWS-managed policies the instance role may carry. They contain Resource "*" because Session Manager and the
    // CloudWatch agent require it; the template's own statements may not (AllowedWildcardResourceActions is empty).
    private static readonly string[] AllowedManagedPolicies = ["AmazonSSMManagedInstanceCore", "CloudWatchAgentServerPolicy"];
    private static readonly string[] AllowedWildcardResourceActions = [];

    // The default option (rds-mysql without replicas), Conditions evaluated; DatabaseOptionsTests covers every option.
    private readonly CfnTemplate _template = CfnConditions.Resolve(CfnTemplate.Load(), new Dictionary<string, string>());

    // Every branch of every Fn::If: what any parameter set can produce.
    private readonly CfnTemplate _everyBranch = CfnTemplate.Load();

    [Fact]
    public void DatabaseIsEncryptedMultiAzBackedUpForSevenDaysPrivateAndUsesIamAuthentication()
    {
        var (_, db) = _template.Single("AWS::RDS::DBInstance");

        Assert.Equal("mysql", CfnTemplate.Text(db["Engine"]));
        Assert.True(CfnTemplate.IsTrue(db["StorageEncrypted"]), "StorageEncrypted");
        Assert.True(CfnTemplate.IsTrue(db["MultiAZ"]), "MultiAZ");
        Assert.Equal("7", CfnTemplate.Text(db["BackupRetentionPeriod"]));
        Assert.False(CfnTemplate.IsTrue(db["PubliclyAccessible"]), "PubliclyAccessible");
        Assert.Equal("false", CfnTemplate.Text(db["PubliclyAccessible"]));
        Assert.True(CfnTemplate.IsTrue(db["EnableIAMDatabaseAuthentication"]), "EnableIAMDatabaseAuthentication");
    }

    [Fact]
    public void DatabasePasswordIsManagedBySecretsManagerNeverAParameterDefault()
    {
        var (_, db) = _template.Single("AWS::RDS::DBInstance");

        Assert.True(CfnTemplate.IsTrue(db["ManageMasterUserPassword"]), "ManageMasterUserPassword");
        Assert.Null(db["MasterUserPassword"]);
        var parameters = _template.Root["Parameters"]!.AsObject();
        Assert.DoesNotContain(parameters, p =>
            (p.Key.Contains("Password", StringComparison.OrdinalIgnoreCase) || p.Key.Contains("Secret", StringComparison.OrdinalIgnoreCase)
             || CfnTemplate.IsTrue(p.Value!["NoEcho"]))
            && p.Value!["Default"] is not null);
    }

    [Fact]
    public void DatabaseRequiresTls()
    {
        var (_, db) = _template.Single("AWS::RDS::DBInstance");
        var parameterGroup = _template.PropertiesOf(CfnTemplate.Target(db["DBParameterGroupName"])!);

        Assert.Equal("1", CfnTemplate.Text(parameterGroup["Parameters"]!["require_secure_transport"]));
    }

    [Fact]
    public void DatabaseCacheAndInstancesLiveInPrivateSubnets()
    {
        var (_, db) = _template.Single("AWS::RDS::DBInstance");
        var (_, cache) = _template.Single("AWS::ElastiCache::ReplicationGroup");
        var (_, group) = _template.Single("AWS::AutoScaling::AutoScalingGroup");

        AssertPrivate(_template.PropertiesOf(CfnTemplate.Target(db["DBSubnetGroupName"])!)["SubnetIds"]);
        AssertPrivate(_template.PropertiesOf(CfnTemplate.Target(cache["CacheSubnetGroupName"])!)["SubnetIds"]);
        AssertPrivate(group["VPCZoneIdentifier"]);

        void AssertPrivate(JsonNode? subnets)
        {
            var ids = CfnTemplate.Items(subnets).Select(CfnTemplate.Target).ToList();
            Assert.True(ids.Count >= 2, "at least two subnets (two availability zones)");
            Assert.All(ids, id => Assert.True(id is not null && _template.IsPrivateSubnet(id), $"{id} is not a private subnet"));
        }
    }

    [Fact]
    public void CacheEncryptsInTransitAndAtRestAndRequiresAuth()
    {
        var (_, cache) = _template.Single("AWS::ElastiCache::ReplicationGroup");

        Assert.True(CfnTemplate.IsTrue(cache["TransitEncryptionEnabled"]), "TransitEncryptionEnabled");
        Assert.True(CfnTemplate.IsTrue(cache["AtRestEncryptionEnabled"]), "AtRestEncryptionEnabled");
        // The token comes from Secrets Manager at deploy time, never from the template text.
        Assert.Contains("{{resolve:secretsmanager:", cache["AuthToken"]!.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public void OnlyTheServiceReachesTheDatabaseOnMySqlPort()
    {
        var (_, db) = _template.Single("AWS::RDS::DBInstance");

        AssertOnlyAppIngress(CfnTemplate.Items(db["VPCSecurityGroups"]), 3306);
    }

    [Fact]
    public void OnlyTheServiceReachesTheCacheOnRedisPort()
    {
        var (_, cache) = _template.Single("AWS::ElastiCache::ReplicationGroup");

        AssertOnlyAppIngress(CfnTemplate.Items(cache["SecurityGroupIds"]), 6379);
    }

    [Fact]
    public void OnlyTheLoadBalancerReachesTheInstancesOnTheServicePort()
    {
        var albGroups = CfnTemplate.Items(_template.Single("AWS::ElasticLoadBalancingV2::LoadBalancer").Properties["SecurityGroups"])
            .Select(CfnTemplate.Target).ToList();

        var rules = _template.IngressRules(AppSecurityGroup());

        Assert.NotEmpty(rules);
        Assert.All(rules, rule =>
        {
            Assert.Equal("8080", CfnTemplate.Text(rule["FromPort"]));
            Assert.Equal("8080", CfnTemplate.Text(rule["ToPort"]));
            Assert.Contains(CfnTemplate.Target(rule["SourceSecurityGroupId"]), albGroups);
        });
    }

    [Fact]
    public void NoPolicyStatementGrantsWildcardActionsOrResources()
    {
        var statements = _everyBranch.PolicyStatements().ToList();

        Assert.NotEmpty(statements);
        Assert.All(statements, statement =>
        {
            Assert.Null(statement["NotAction"]);
            Assert.Null(statement["NotResource"]);
            var actions = CfnTemplate.Items(statement["Action"]).Select(a => CfnTemplate.Text(a) ?? a!.ToJsonString()).ToList();
            Assert.All(actions, action => Assert.DoesNotContain('*', action));
            if (!actions.All(AllowedWildcardResourceActions.Contains))
            {
                Assert.All(CfnTemplate.Items(statement["Resource"]), r => Assert.DoesNotContain('*', r!.ToJsonString()));
            }
        });
    }

    [Fact]
    public void RdsConnectIsScopedToTheServiceDatabaseUser()
    {
        var connect = _template.PolicyStatements()
            .Where(s => CfnTemplate.Items(s["Action"]).Any(a => CfnTemplate.Text(a) == "rds-db:connect"))
            .ToList();

        var statement = Assert.Single(connect);
        var resource = Assert.Single(CfnTemplate.Items(statement["Resource"]));
        var arn = CfnTemplate.Text(resource!["Fn::Sub"]);
        Assert.NotNull(arn);
        Assert.Matches(DbUserArn(), arn);
    }

    [Fact]
    public void InstanceRoleCarriesOnlyKnownAwsManagedPolicies()
    {
        var (_, role) = _everyBranch.Single("AWS::IAM::Role");

        Assert.All(CfnTemplate.Items(role["ManagedPolicyArns"]), arn =>
        {
            var text = CfnTemplate.Text(arn!["Fn::Sub"]) ?? CfnTemplate.Text(arn) ?? "";
            var name = text[(text.LastIndexOf('/') + 1)..];
            Assert.StartsWith("arn:${AWS::Partition}:iam::aws:policy/", text, StringComparison.Ordinal);
            Assert.Contains(name, AllowedManagedPolicies);
        });
    }

    [Fact]
    public void LoadBalancerChecksReadinessAndHidesMetrics()
    {
        var (_, targetGroup) = _template.Single("AWS::ElasticLoadBalancingV2::TargetGroup");

        Assert.Equal("/health/ready", CfnTemplate.Text(targetGroup["HealthCheckPath"]));
        Assert.Equal("8080", CfnTemplate.Text(targetGroup["Port"]));
        Assert.Contains(_template.OfType("AWS::ElasticLoadBalancingV2::ListenerRule"), rule =>
            rule.Properties.ToJsonString().Contains("\"/metrics\"", StringComparison.Ordinal)
            && rule.Properties.ToJsonString().Contains("fixed-response", StringComparison.Ordinal));
    }

    [Fact]
    public void InstancesRequireImdsV2AndEncryptedVolumes()
    {
        var data = _template.Single("AWS::EC2::LaunchTemplate").Properties["LaunchTemplateData"]!;

        Assert.Equal("required", CfnTemplate.Text(data["MetadataOptions"]!["HttpTokens"]));
        Assert.All(CfnTemplate.Items(data["BlockDeviceMappings"]), m => Assert.True(CfnTemplate.IsTrue(m!["Ebs"]!["Encrypted"])));
    }

    private string AppSecurityGroup()
    {
        var data = _template.Single("AWS::EC2::LaunchTemplate").Properties["LaunchTemplateData"]!;
        return Assert.Single(CfnTemplate.Items(data["SecurityGroupIds"]).Select(CfnTemplate.Target))!;
    }

    private void AssertOnlyAppIngress(IEnumerable<JsonNode?> securityGroups, int port)
    {
        var app = AppSecurityGroup();
        var groups = securityGroups.Select(CfnTemplate.Target).ToList();

        Assert.NotEmpty(groups);
        Assert.All(groups, group =>
        {
            Assert.NotNull(group);
            var rules = _template.IngressRules(group);
            Assert.NotEmpty(rules);
            Assert.All(rules, rule =>
            {
                Assert.Equal("tcp", CfnTemplate.Text(rule["IpProtocol"]));
                Assert.Equal(port.ToString(System.Globalization.CultureInfo.InvariantCulture), CfnTemplate.Text(rule["FromPort"]));
                Assert.Equal(port.ToString(System.Globalization.CultureInfo.InvariantCulture), CfnTemplate.Text(rule["ToPort"]));
                Assert.Equal(app, CfnTemplate.Target(rule["SourceSecurityGroupId"]));
                Assert.Null(rule["CidrIp"]);
                Assert.Null(rule["CidrIpv6"]);
                Assert.Null(rule["SourcePrefixListId"]);
            });
        });
    }

    [GeneratedRegex(@"^arn:\$\{AWS::Partition\}:rds-db:\$\{AWS::Region\}:\$\{AWS::AccountId\}:dbuser:\$\{\w+\.(DbiResourceId|DBClusterResourceId)\}/[^*/]+$")]
    private static partial Regex DbUserArn();
}
