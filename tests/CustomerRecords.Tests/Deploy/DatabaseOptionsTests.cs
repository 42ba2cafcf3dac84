using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace CustomerRecords.Tests.Deploy;

/// <summary>
/// The stack for each database option (<c>DatabaseEngine</c> with its replica/reader counts and capacity), with the
/// template's Conditions evaluated for that parameter set: what gets created keeps the security posture, the
/// service is wired to the right endpoints and the alarms watch what exists. cfn-lint checks all combinations at
/// once (<see cref="CfnLintTests"/>).
/// </summary>
public sealed partial class DatabaseOptionsTests
{
    public sealed record DbOption(string Engine, int Replicas, int Readers, string MinCapacity = "0.5", int BacktrackHours = 0)
    {
        public bool IsAurora => Engine != "rds-mysql";

        public bool IsServerless => Engine == "aurora-serverless-v2";

        public bool AutoPause => IsServerless && MinCapacity == "0";

        /// <summary>Read endpoints the service is given: RDS replicas, or Aurora readers.</summary>
        public int ReadCopies => IsAurora ? Readers : Replicas;

        public Dictionary<string, string> Parameters() => new(StringComparer.Ordinal)
        {
            ["DatabaseEngine"] = Engine,
            ["ReadReplicaCount"] = Replicas.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ReaderCount"] = Readers.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ServerlessMinCapacity"] = MinCapacity,
            ["AuroraBacktrackHours"] = BacktrackHours.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };

        public override string ToString() => $"{Engine} replicas={Replicas} readers={Readers} min={MinCapacity} backtrack={BacktrackHours}";
    }

    // Replica/reader counts outside the engine's option are set on purpose: they must be ignored.
    public static TheoryData<DbOption> Options() =>
    [
        new DbOption("rds-mysql", Replicas: 0, Readers: 3),
        new DbOption("rds-mysql", Replicas: 1, Readers: 0),
        new DbOption("rds-mysql", Replicas: 5, Readers: 0),
        new DbOption("aurora-mysql", Replicas: 2, Readers: 0),
        new DbOption("aurora-mysql", Replicas: 0, Readers: 2, BacktrackHours: 24),
        new DbOption("aurora-mysql", Replicas: 0, Readers: 5),
        new DbOption("aurora-serverless-v2", Replicas: 0, Readers: 1, MinCapacity: "0"),
        new DbOption("aurora-serverless-v2", Replicas: 3, Readers: 0, MinCapacity: "0.5"),
    ];

    private static CfnTemplate For(DbOption option) => CfnConditions.Resolve(CfnTemplate.Load(), option.Parameters());

    [Theory]
    [MemberData(nameof(Options))]
    public void EveryReferenceOfTheResolvedStackPointsAtSomethingThatExists(DbOption option)
    {
        Assert.Empty(CfnConditions.DanglingReferences(For(option)));
    }

    [Theory]
    [MemberData(nameof(Options))]
    public void TheOptionCreatesExactlyItsDatabaseResources(DbOption option)
    {
        var stack = For(option);

        var instances = stack.OfType("AWS::RDS::DBInstance").ToList();
        var clusters = stack.OfType("AWS::RDS::DBCluster").ToList();
        var replicas = instances.Where(i => i.Properties["SourceDBInstanceIdentifier"] is not null).ToList();
        var clustered = instances.Where(i => i.Properties["DBClusterIdentifier"] is not null).ToList();
        if (option.IsAurora)
        {
            var (_, cluster) = Assert.Single(clusters);
            Assert.Equal("aurora-mysql", CfnTemplate.Text(cluster["Engine"]));
            Assert.Empty(replicas);
            Assert.Equal(1 + option.Readers, clustered.Count);
            Assert.Equal(instances.Count, clustered.Count);
            Assert.Empty(stack.OfType("AWS::RDS::DBParameterGroup"));
            Assert.All(clustered, i =>
            {
                if (option.IsServerless)
                {
                    Assert.Equal("db.serverless", CfnTemplate.Text(i.Properties["DBInstanceClass"]));
                }
                else
                {
                    Assert.Equal("AuroraInstanceClass", CfnTemplate.Target(i.Properties["DBInstanceClass"]));
                }
            });
            var scaling = cluster["ServerlessV2ScalingConfiguration"];
            if (option.IsServerless)
            {
                Assert.Equal(option.MinCapacity, CfnTemplate.Text(CfnTemplate.Target(scaling!["MinCapacity"]) is { } p ? Parameter(p) : scaling["MinCapacity"]));
                Assert.Equal(option.AutoPause, scaling["SecondsUntilAutoPause"] is not null);
            }
            else
            {
                Assert.Null(scaling);
            }

            Assert.Equal(option.BacktrackHours > 0 && !option.IsServerless, cluster["BacktrackWindow"] is not null);
        }
        else
        {
            Assert.Empty(clusters);
            Assert.Empty(clustered);
            Assert.Equal(option.Replicas, replicas.Count);
            Assert.Equal(1 + option.Replicas, instances.Count);
            Assert.Empty(stack.OfType("AWS::RDS::DBClusterParameterGroup"));
        }

        JsonNode Parameter(string name) => JsonValue.Create(CfnConditions.ParameterValues(CfnTemplate.Load().Root, option.Parameters())[name])!;
    }

    [Theory]
    [MemberData(nameof(Options))]
    public void TheDataIsEncryptedBackedUpForAWeekProtectedFromDeletionAndUsesIamAuthentication(DbOption option)
    {
        var stack = For(option);
        var (id, owner) = DataOwner(stack);

        Assert.True(CfnTemplate.IsTrue(owner["StorageEncrypted"]), $"{id} StorageEncrypted");
        Assert.True(int.Parse(CfnTemplate.Text(owner["BackupRetentionPeriod"])!, System.Globalization.CultureInfo.InvariantCulture) >= 7, $"{id} BackupRetentionPeriod");
        Assert.True(CfnTemplate.IsTrue(owner["DeletionProtection"]), $"{id} DeletionProtection");
        Assert.True(CfnTemplate.IsTrue(owner["EnableIAMDatabaseAuthentication"]), $"{id} EnableIAMDatabaseAuthentication");
        Assert.True(CfnTemplate.IsTrue(owner["ManageMasterUserPassword"]), $"{id} ManageMasterUserPassword");
        Assert.Null(owner["MasterUserPassword"]);
        Assert.Equal("Snapshot", CfnTemplate.Text(stack.Resources[id]!["DeletionPolicy"]));
        if (!option.IsAurora)
        {
            Assert.True(CfnTemplate.IsTrue(owner["MultiAZ"]), "MultiAZ");
        }
    }

    [Theory]
    [MemberData(nameof(Options))]
    public void EveryDatabaseInstanceIsPrivateEncryptedHasPerformanceInsightsAndRequiresTls(DbOption option)
    {
        var stack = For(option);
        var (ownerId, owner) = DataOwner(stack);

        Assert.All(stack.OfType("AWS::RDS::DBInstance"), instance =>
        {
            var (id, p) = instance;
            Assert.Equal("false", CfnTemplate.Text(p["PubliclyAccessible"]));
            Assert.True(CfnTemplate.IsTrue(p["EnablePerformanceInsights"]), $"{id} EnablePerformanceInsights");
            if (p["SourceDBInstanceIdentifier"] is { } source)
            {
                // A replica inherits encryption from its source; it must not be created unencrypted.
                Assert.Equal(ownerId, CfnTemplate.Target(source));
                Assert.True(p["StorageEncrypted"] is null || CfnTemplate.IsTrue(p["StorageEncrypted"]), $"{id} StorageEncrypted");
                Assert.True(CfnTemplate.IsTrue(p["EnableIAMDatabaseAuthentication"]), $"{id} EnableIAMDatabaseAuthentication");
            }

            if (p["DBClusterIdentifier"] is { } cluster)
            {
                Assert.Equal(ownerId, CfnTemplate.Target(cluster));
            }
            else
            {
                // RDS for MySQL: TLS is required by the instance's parameter group, which a replica does not inherit.
                AssertRequiresTls(stack, p["DBParameterGroupName"], "AWS::RDS::DBParameterGroup", id);
            }
        });

        if (option.IsAurora)
        {
            AssertRequiresTls(stack, owner["DBClusterParameterGroupName"], "AWS::RDS::DBClusterParameterGroup", ownerId);
        }
    }

    [Theory]
    [MemberData(nameof(Options))]
    public void OnlyTheServiceReachesTheDatabaseAndTheCacheFromPrivateSubnets(DbOption option)
    {
        var stack = For(option);
        var (_, owner) = DataOwner(stack);
        var app = AppSecurityGroup(stack);

        AssertPrivate(stack, stack.PropertiesOf(CfnTemplate.Target(owner["DBSubnetGroupName"])!)["SubnetIds"]);
        foreach (var (id, p) in stack.OfType("AWS::RDS::DBInstance").Where(i => i.Properties["DBSubnetGroupName"] is not null))
        {
            Assert.Equal(CfnTemplate.Target(owner["DBSubnetGroupName"]), CfnTemplate.Target(p["DBSubnetGroupName"]));
        }

        var groups = new List<JsonNode?>();
        groups.AddRange(CfnTemplate.Items(owner[option.IsAurora ? "VpcSecurityGroupIds" : "VPCSecurityGroups"]));
        groups.AddRange(stack.OfType("AWS::RDS::DBInstance").SelectMany(i => CfnTemplate.Items(i.Properties["VPCSecurityGroups"])));
        AssertOnlyFrom(stack, app, groups, 3306);

        var (_, cache) = stack.Single("AWS::ElastiCache::ReplicationGroup");
        AssertPrivate(stack, stack.PropertiesOf(CfnTemplate.Target(cache["CacheSubnetGroupName"])!)["SubnetIds"]);
        AssertOnlyFrom(stack, app, CfnTemplate.Items(cache["SecurityGroupIds"]), 6379);
    }

    [Theory]
    [MemberData(nameof(Options))]
    public void TheInstanceRoleMayConnectAsTheServiceUserToExactlyThisOptionsDatabases(DbOption option)
    {
        var stack = For(option);

        var statement = Assert.Single(stack.PolicyStatements(), s => CfnTemplate.Items(s["Action"]).Any(a => CfnTemplate.Text(a) == "rds-db:connect"));
        var granted = CfnTemplate.Items(statement["Resource"])
            .Select(r => CfnTemplate.Text(r!["Fn::Sub"]) ?? r.ToJsonString())
            .Select(arn =>
            {
                var m = DbUserArn().Match(arn);
                Assert.True(m.Success, $"not a dbuser ARN for ${{DbIamUser}}: {arn}");
                return (Resource: m.Groups[1].Value, Attribute: m.Groups[2].Value);
            })
            .OrderBy(r => r.Resource, StringComparer.Ordinal)
            .ToList();

        var expected = option.IsAurora
            ? [(Resource: "AuroraCluster", Attribute: "DBClusterResourceId")]
            : stack.OfType("AWS::RDS::DBInstance").Select(i => (Resource: i.Id, Attribute: "DbiResourceId")).OrderBy(r => r.Resource, StringComparer.Ordinal).ToList();
        Assert.Equal(expected, granted);
        Assert.All(granted, g => Assert.Equal(option.IsAurora ? "AWS::RDS::DBCluster" : "AWS::RDS::DBInstance", stack.TypeOf(g.Resource)));
    }

    [Theory]
    [MemberData(nameof(Options))]
    public void TheServiceGetsTheWriterAndTheReadEndpointOfThisOption(DbOption option)
    {
        var stack = For(option);
        var (ownerId, _) = DataOwner(stack);
        var sub = stack.Single("AWS::EC2::LaunchTemplate").Properties["LaunchTemplateData"]!["UserData"]!["Fn::Base64"]!["Fn::Sub"]!.AsArray();
        var script = (string)sub[0]!;
        var variables = sub[1]!.AsObject();

        Assert.Contains("ConnectionStrings__Customers=\"Server=${DbWriterHost};Port=${DbPort};", script, StringComparison.Ordinal);
        Assert.Contains("${ReaderSettings}", script, StringComparison.Ordinal);
        Assert.Contains("${ServerlessSettings}", script, StringComparison.Ordinal);
        Assert.Equal([ownerId, "Endpoint.Address"], GetAtt(variables["DbWriterHost"]));
        Assert.Equal([ownerId, "Endpoint.Port"], GetAtt(variables["DbPort"]));
        Assert.Equal([ownerId, "MasterUserSecret.SecretArn"], GetAtt(variables["DbAdminSecretArn"]));

        var reader = variables["ReaderSettings"];
        if (option.ReadCopies == 0)
        {
            Assert.Equal("", CfnTemplate.Text(reader));
        }
        else
        {
            var readerSub = reader!["Fn::Sub"]!.AsArray();
            Assert.StartsWith("ConnectionStrings__CustomersReadOnly=\"Server=${Host};Port=${Port};", (string)readerSub[0]!, StringComparison.Ordinal);
            Assert.Contains("SslMode=VerifyFull", (string)readerSub[0]!, StringComparison.Ordinal);
            Assert.Equal(option.IsAurora ? ["AuroraCluster", "ReadEndpoint.Address"] : ["DatabaseReplica1", "Endpoint.Address"], GetAtt(readerSub[1]!["Host"]));
        }

        var serverless = CfnTemplate.Text(variables["ServerlessSettings"]) ?? "";
        Assert.Equal(option.IsServerless, serverless.Contains("Database__ResumeTimeout=00:01:00", StringComparison.Ordinal));
        Assert.Equal(option.AutoPause, serverless.Contains("Health__DatabaseProbeInterval=00:05:00", StringComparison.Ordinal));

        static string[] GetAtt(JsonNode? node) => [.. node!["Fn::GetAtt"]!.AsArray().Select(p => (string)p!)];
    }

    [Theory]
    [MemberData(nameof(Options))]
    public void AlarmsWatchExactlyTheMetricsThisOptionHas(DbOption option)
    {
        var stack = For(option);
        var (ownerId, _) = DataOwner(stack);
        var alarms = stack.OfType("AWS::CloudWatch::Alarm").ToList();
        var byMetric = alarms
            .SelectMany(a => MetricsOf(a.Properties).Select(m => (Alarm: a.Id, m.Namespace, m.Name, m.Dimensions)))
            .ToList();

        Assert.All(alarms, a =>
        {
            Assert.Equal("AlarmTopic", CfnTemplate.Target(Assert.Single(CfnTemplate.Items(a.Properties["AlarmActions"]))));
            Assert.NotEmpty(MetricsOf(a.Properties));
        });

        foreach (var metric in new[] { "HTTPCode_Target_5XX_Count", "RequestCount", "TargetResponseTime", "UnHealthyHostCount" })
        {
            Assert.Contains(byMetric, m => m.Namespace == "AWS/ApplicationELB" && m.Name == metric);
        }

        Assert.Contains(byMetric, m => m.Name == "GroupInServiceInstances" && CfnTemplate.Target(m.Dimensions["AutoScalingGroupName"]) == "AutoScalingGroup");
        foreach (var metric in new[] { "EngineCPUUtilization", "DatabaseMemoryUsagePercentage", "Evictions" })
        {
            Assert.Contains(byMetric, m => m.Namespace == "AWS/ElastiCache" && m.Name == metric);
        }

        // Database metrics point at this option's writer: the RDS instance, or the Aurora cluster's WRITER role.
        foreach (var metric in new[] { "CPUUtilization", "FreeableMemory", "DatabaseConnections" })
        {
            var m = Assert.Single(byMetric, m => m.Namespace == "AWS/RDS" && m.Name == metric);
            Assert.Equal(ownerId, CfnTemplate.Target(m.Dimensions[option.IsAurora ? "DBClusterIdentifier" : "DBInstanceIdentifier"]));
            if (option.IsAurora)
            {
                Assert.Equal("WRITER", CfnTemplate.Text(m.Dimensions["Role"]));
            }
        }

        var replicaLag = byMetric.Where(m => m.Name == "ReplicaLag").Select(m => CfnTemplate.Target(m.Dimensions["DBInstanceIdentifier"])).ToList();
        Assert.Equal(option.IsAurora ? 0 : option.Replicas, replicaLag.Count);
        Assert.All(replicaLag, id => Assert.NotNull(stack.PropertiesOf(id!)["SourceDBInstanceIdentifier"]));
        Assert.Equal(option.IsAurora && option.Readers > 0, byMetric.Any(m => m.Name == "AuroraReplicaLag"));
        Assert.Equal(option.IsServerless, byMetric.Any(m => m.Name == "ACUUtilization"));

        // The 5xx alarm is a rate: 5xx responses over all requests, not a raw count.
        var rate = Assert.Single(alarms, a => MetricsOf(a.Properties).Any(m => m.Name == "HTTPCode_Target_5XX_Count")).Properties;
        var expression = Assert.Single(rate["Metrics"]!.AsArray(), m => m!["Expression"] is not null)!["Expression"]!.ToString();
        Assert.Contains("/ requests", expression, StringComparison.Ordinal);
        var p99 = Assert.Single(alarms, a => MetricsOf(a.Properties).Any(m => m.Name == "TargetResponseTime")).Properties;
        Assert.Equal("p99", CfnTemplate.Text(p99["ExtendedStatistic"]));
        var atMax = Assert.Single(alarms, a => MetricsOf(a.Properties).Any(m => m.Name == "GroupInServiceInstances")).Properties;
        Assert.Equal("MaxInstances", CfnTemplate.Target(atMax["Threshold"]));
        Assert.Equal("GreaterThanOrEqualToThreshold", CfnTemplate.Text(atMax["ComparisonOperator"]));
    }

    [Theory]
    [MemberData(nameof(Options))]
    public void TheDashboardShowsTheServiceMetricsBesideThisOptionsDatabase(DbOption option)
    {
        var stack = For(option);
        var (ownerId, _) = DataOwner(stack);
        var sub = stack.Single("AWS::CloudWatch::Dashboard").Properties["DashboardBody"]!["Fn::Sub"]!.AsArray();

        // The body is JSON once the variables are in (resources and parameters as placeholders).
        var widgets = JsonNode.Parse(Render(sub))!["widgets"]!.AsArray();
        Assert.True(widgets.Count >= 8, $"{widgets.Count} widgets");
        var dimensions = CfnTemplate.Text(sub[1]!["DbDimensions"]!["Fn::Sub"]) ?? "";
        var lag = CfnTemplate.Text(sub[1]!["DbLagMetric"]!["Fn::Sub"])!;

        Assert.Contains(option.IsAurora ? $"\"DBClusterIdentifier\", \"${{{ownerId}}}\", \"Role\", \"WRITER\"" : $"\"DBInstanceIdentifier\", \"${{{ownerId}}}\"", dimensions, StringComparison.Ordinal);
        var expected = option.IsServerless ? "ACUUtilization" : option.IsAurora ? "AuroraReplicaLag" : option.Replicas > 0 ? "ReplicaLag" : "FreeStorageSpace";
        Assert.Contains($"\"{expected}\"", lag, StringComparison.Ordinal);
        var searched = CloudWatchAgentConfig.DashboardServiceMetrics((string)sub[0]!);
        Assert.NotEmpty(searched);
        Assert.All(searched, name => Assert.True(CloudWatchAgentConfig.Load().Collects(name),
            $"the dashboard searches for {name}, which the CloudWatch agent configuration does not collect"));
    }

    /// <summary>A Fn::Sub [text, variables] with each ${...} replaced: by its variable's (rendered) text, else by "x".</summary>
    private static string Render(JsonArray sub)
    {
        var variables = sub[1]!.AsObject();
        return Regex.Replace((string)sub[0]!, @"\$\{([^}]+)\}", m =>
            variables[m.Groups[1].Value] is { } v
                ? Regex.Replace(CfnTemplate.Text(v["Fn::Sub"]) ?? CfnTemplate.Text(v) ?? "", @"\$\{[^}]+\}", "x")
                : "x");
    }

    [Theory]
    [InlineData("rds-mysql", "db-ABCDEFGHIJKLMNOPQRSTUVWXY1")]
    [InlineData("aurora-mysql", "cluster-ABCDEFGHIJKLMNOPQRSTUVWXY2")]
    public void ARestoredDatabaseReplacesTheWriterForTheServiceAndTheRoleMayConnectToItAsTheServiceUserOnly(string engine, string resourceId)
    {
        var parameters = new DbOption(engine, Replicas: 2, Readers: 2).Parameters();
        parameters["RestoredDatabaseEndpoint"] = "customer-records-restored.abcdefghijkl.eu-west-1.rds.amazonaws.com";
        parameters["RestoredDatabaseResourceId"] = resourceId;
        parameters["CacheFlushOnStart"] = "true";
        var stack = CfnConditions.Resolve(CfnTemplate.Load(), parameters);
        var variables = stack.Single("AWS::EC2::LaunchTemplate").Properties["LaunchTemplateData"]!["UserData"]!["Fn::Base64"]!["Fn::Sub"]![1]!.AsObject();

        Assert.Empty(CfnConditions.DanglingReferences(stack));
        Assert.Equal("RestoredDatabaseEndpoint", CfnTemplate.Target(variables["DbWriterHost"]));
        Assert.Equal("3306", CfnTemplate.Text(variables["DbPort"]));
        // The replicas/readers still follow the old database: the service must not read from them.
        Assert.Equal("", CfnTemplate.Text(variables["ReaderSettings"]));
        Assert.Equal("false", CfnTemplate.Text(variables["BootstrapUser"]));
        Assert.Equal("Cache__FlushOnStart=true", CfnTemplate.Text(variables["CacheFlushSettings"]));

        var connect = stack.PolicyStatements().Where(s => CfnTemplate.Items(s["Action"]).Any(a => CfnTemplate.Text(a) == "rds-db:connect")).ToList();
        var restored = Assert.Single(connect, s => s.ToJsonString().Contains("RestoredDatabaseResourceId", StringComparison.Ordinal));
        Assert.Equal(
            "arn:${AWS::Partition}:rds-db:${AWS::Region}:${AWS::AccountId}:dbuser:${RestoredDatabaseResourceId}/${DbIamUser}",
            CfnTemplate.Text(Assert.Single(CfnTemplate.Items(restored["Resource"]))!["Fn::Sub"]));
    }

    [Theory]
    [InlineData("")]
    [InlineData("db-ABCDEFGHIJKLMNOPQRSTUVWXY1")]
    [InlineData("cluster-ABCDEFGHIJKLMNOPQRSTUVWXY2")]
    public void TheRestoredResourceIdParameterAcceptsOnlyInstanceAndClusterResourceIds(string accepted)
    {
        var pattern = (string)CfnTemplate.Load().Root["Parameters"]!["RestoredDatabaseResourceId"]!["AllowedPattern"]!;

        Assert.Matches(pattern, accepted);
        Assert.DoesNotMatch(pattern, "*");
        Assert.DoesNotMatch(pattern, "db-*");
        Assert.DoesNotMatch(pattern, "cluster-ABC/app");
    }

    [Fact]
    public void WithoutARestoreTheStackNeitherFlushesTheCacheOnStartNorGrantsAnotherDatabase()
    {
        var stack = CfnConditions.Resolve(CfnTemplate.Load(), new Dictionary<string, string>());
        var variables = stack.Single("AWS::EC2::LaunchTemplate").Properties["LaunchTemplateData"]!["UserData"]!["Fn::Base64"]!["Fn::Sub"]![1]!.AsObject();

        Assert.Equal("", CfnTemplate.Text(variables["CacheFlushSettings"]));
        Assert.Equal("DbBootstrapUser", CfnTemplate.Target(variables["BootstrapUser"]));
        Assert.DoesNotContain("RestoredDatabaseResourceId", stack.Resources["InstanceRole"]!.ToJsonString(), StringComparison.Ordinal);
    }

    private static (string Id, JsonObject Properties) DataOwner(CfnTemplate stack)
    {
        var owners = stack.OfType("AWS::RDS::DBCluster")
            .Concat(stack.OfType("AWS::RDS::DBInstance").Where(i => i.Properties["SourceDBInstanceIdentifier"] is null && i.Properties["DBClusterIdentifier"] is null))
            .ToList();
        return Assert.Single(owners);
    }

    private static void AssertRequiresTls(CfnTemplate stack, JsonNode? reference, string type, string owner)
    {
        var group = CfnTemplate.Target(reference);
        Assert.True(group is not null, $"{owner} has no {type} of this template");
        Assert.Equal(type, stack.TypeOf(group));
        var value = CfnTemplate.Text(stack.PropertiesOf(group)["Parameters"]!["require_secure_transport"]);
        Assert.True(value is "1" or "ON", $"{group}: require_secure_transport={value}");
    }

    private static void AssertPrivate(CfnTemplate stack, JsonNode? subnets)
    {
        var ids = CfnTemplate.Items(subnets).Select(CfnTemplate.Target).ToList();
        Assert.True(ids.Count >= 2, "at least two subnets (two availability zones)");
        Assert.All(ids, id => Assert.True(id is not null && stack.IsPrivateSubnet(id), $"{id} is not a private subnet"));
    }

    private static string AppSecurityGroup(CfnTemplate stack)
    {
        var data = stack.Single("AWS::EC2::LaunchTemplate").Properties["LaunchTemplateData"]!;
        return Assert.Single(CfnTemplate.Items(data["SecurityGroupIds"]).Select(CfnTemplate.Target))!;
    }

    private static void AssertOnlyFrom(CfnTemplate stack, string app, IEnumerable<JsonNode?> securityGroups, int port)
    {
        var groups = securityGroups.Select(CfnTemplate.Target).ToList();
        Assert.NotEmpty(groups);
        Assert.All(groups, group =>
        {
            Assert.NotNull(group);
            var rules = stack.IngressRules(group);
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

    private sealed record AlarmMetric(string Namespace, string Name, Dictionary<string, JsonNode?> Dimensions);

    /// <summary>The metrics an alarm reads: its single metric, or each MetricStat of its metric math.</summary>
    private static List<AlarmMetric> MetricsOf(JsonObject alarm)
    {
        static Dictionary<string, JsonNode?> Dims(JsonNode? node) =>
            CfnTemplate.Items(node).ToDictionary(d => (string)d!["Name"]!, d => d!["Value"], StringComparer.Ordinal);

        if (alarm["MetricName"] is { } name)
        {
            return [new AlarmMetric((string)alarm["Namespace"]!, (string)name!, Dims(alarm["Dimensions"]))];
        }

        return [.. CfnTemplate.Items(alarm["Metrics"])
            .Where(m => m!["MetricStat"] is not null)
            .Select(m => m!["MetricStat"]!["Metric"]!)
            .Select(m => new AlarmMetric((string)m["Namespace"]!, (string)m["MetricName"]!, Dims(m["Dimensions"])))];
    }

    [GeneratedRegex(@"^arn:\$\{AWS::Partition\}:rds-db:\$\{AWS::Region\}:\$\{AWS::AccountId\}:dbuser:\$\{(\w+)\.(DbiResourceId|DBClusterResourceId)\}/\$\{DbIamUser\}$")]
    private static partial Regex DbUserArn();
}
