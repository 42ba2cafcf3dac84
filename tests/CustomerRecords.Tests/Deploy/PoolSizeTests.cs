using System.Text.Json.Nodes;

namespace CustomerRecords.Tests.Deploy;

/// <summary>
/// The stack sets each instance's <c>Maximum Pool Size</c> from the database class and <c>MaxInstances</c> so that
/// MaxInstances × pool never exceeds the class's default <c>max_connections</c> less a reserve (docs/capacity.md).
/// The limits here are AWS documentation's, kept apart from the template's mappings, which this recomputes.
/// </summary>
public sealed class PoolSizeTests
{
    private const long RdsBytesPerConnection = 12_582_880; // RDS for MySQL default: {DBInstanceClassMemory/12582880}

    /// <summary>RDS for MySQL classes' memory in GiB (AWS documentation's instance class tables).</summary>
    private static readonly Dictionary<string, int> RdsMemoryGiB = new(StringComparer.Ordinal)
    {
        ["db.t4g.micro"] = 1, ["db.t4g.small"] = 2, ["db.t4g.medium"] = 4, ["db.t4g.large"] = 8, ["db.t4g.xlarge"] = 16,
        ["db.m7g.large"] = 8, ["db.m7g.xlarge"] = 16, ["db.m7g.2xlarge"] = 32,
        ["db.r7g.large"] = 16, ["db.r7g.xlarge"] = 32, ["db.r7g.2xlarge"] = 64,
    };

    /// <summary>Aurora MySQL's default max_connections by class (AWS documentation's table).</summary>
    private static readonly Dictionary<string, int> AuroraMaxConnections = new(StringComparer.Ordinal)
    {
        ["db.t4g.medium"] = 90, ["db.t4g.large"] = 135,
        ["db.r6g.large"] = 1000, ["db.r6g.xlarge"] = 2000, ["db.r6g.2xlarge"] = 3000, ["db.r6g.4xlarge"] = 4000,
        ["db.r7g.large"] = 1000, ["db.r7g.xlarge"] = 2000, ["db.r7g.2xlarge"] = 3000, ["db.r7g.4xlarge"] = 4000,
    };

    /// <summary>Aurora Serverless v2 by ServerlessMaxCapacity: the provisioned Aurora class of the same memory (2 GiB per ACU).</summary>
    private static readonly Dictionary<string, int> ServerlessMaxConnections = new(StringComparer.Ordinal)
    {
        ["1"] = 45, ["2"] = 90, ["4"] = 135, ["8"] = 1000, ["16"] = 2000, ["32"] = 3000, ["64"] = 4000, ["128"] = 5000, ["256"] = 6000,
    };

    public static TheoryData<string, string, string> Maps() => new()
    {
        // map, the parameter naming its key, the parameter's engine
        { "RdsPoolSize", "DbInstanceClass", "rds-mysql" },
        { "AuroraPoolSize", "AuroraInstanceClass", "aurora-mysql" },
        { "ServerlessPoolSize", "ServerlessMaxCapacity", "aurora-serverless-v2" },
    };

    [Theory]
    [MemberData(nameof(Maps))]
    public void MaxInstancesTimesThePoolNeverExceedsTheClassesMaxConnectionsLessTheReserve(string map, string classParameter, string engine)
    {
        var root = CfnTemplate.Load().Root;
        var classes = AllowedValues(root, classParameter);
        var counts = AllowedValues(root, "MaxInstances");
        var mapping = root["Mappings"]![map]!.AsObject();
        Assert.Equal(classes.Order(StringComparer.Ordinal), mapping.Select(m => m.Key).Order(StringComparer.Ordinal)); // no class without a pool

        foreach (var dbClass in classes)
        {
            var (maxConnections, reserve) = Limit(engine, dbClass);
            foreach (var count in counts)
            {
                var instances = int.Parse(count, System.Globalization.CultureInfo.InvariantCulture);
                var pool = int.Parse(mapping[dbClass]![count]!.ToString(), System.Globalization.CultureInfo.InvariantCulture);
                Assert.True(pool >= 1 && pool <= 100, $"{dbClass}, {count} instances: pool {pool}");
                Assert.True(instances * pool <= maxConnections - reserve,
                    $"{dbClass}: {count} instances × pool {pool} = {instances * pool} > max_connections {maxConnections} - reserve {reserve}");

                // And the pool is no smaller than needed: one more connection each would break the bound or pass the cap of 100.
                Assert.True(pool == 100 || instances * (pool + 1) > maxConnections - reserve, $"{dbClass}, {count} instances: pool {pool} could be larger");
            }
        }
    }

    [Theory]
    [MemberData(nameof(DatabaseOptionsTests.Options), MemberType = typeof(DatabaseOptionsTests))]
    public void EveryConnectionStringOfTheOptionUsesThePoolOfItsClass(DatabaseOptionsTests.DbOption option)
    {
        var stack = CfnConditions.Resolve(CfnTemplate.Load(), option.Parameters());
        var sub = stack.Single("AWS::EC2::LaunchTemplate").Properties["LaunchTemplateData"]!["UserData"]!["Fn::Base64"]!["Fn::Sub"]!.AsArray();
        var script = (string)sub[0]!;
        var variables = sub[1]!.AsObject();
        var expected = option.IsServerless ? ("ServerlessPoolSize", "ServerlessMaxCapacity")
            : option.IsAurora ? ("AuroraPoolSize", "AuroraInstanceClass")
            : ("RdsPoolSize", "DbInstanceClass");

        Assert.Contains("ConnectionStrings__Customers=\"", script, StringComparison.Ordinal);
        Assert.Contains("SslCa=/etc/customer-records/rds-ca.pem;Maximum Pool Size=${DbPoolSize}\"", script, StringComparison.Ordinal);
        AssertPool(expected, variables["DbPoolSize"]);
        if (option.ReadCopies > 0)
        {
            var reader = variables["ReaderSettings"]!["Fn::Sub"]!.AsArray();
            Assert.EndsWith(";Maximum Pool Size=${DbPoolSize}\"", (string)reader[0]!, StringComparison.Ordinal);
            AssertPool(expected, reader[1]!["DbPoolSize"]);
        }

        static void AssertPool((string Map, string Parameter) expected, JsonNode? node)
        {
            var find = node!["Fn::FindInMap"]!.AsArray();
            Assert.Equal(expected.Map, (string)find[0]!);
            Assert.Equal(expected.Parameter, CfnTemplate.Target(find[1]));
            Assert.Equal("MaxInstances", CfnTemplate.Target(find[2]));
        }
    }

    /// <summary>max_connections and the reserve kept for admin sessions, migrations, the command line and monitoring.</summary>
    private static (int MaxConnections, int Reserve) Limit(string engine, string key)
    {
        switch (engine)
        {
            case "rds-mysql":
                // The formula's DBInstanceClassMemory is below the class's memory (the OS and RDS's own processes): 25% reserve.
                var computed = (int)(RdsMemoryGiB[key] * 1_073_741_824L / RdsBytesPerConnection);
                return (computed, Math.Max(10, (int)Math.Ceiling(computed * 0.25)));
            case "aurora-mysql":
                var aurora = AuroraMaxConnections[key];
                return (aurora, Math.Max(10, (int)Math.Ceiling(aurora * 0.10)));
            default:
                var serverless = ServerlessMaxConnections[key];
                return (serverless, Math.Max(10, (int)Math.Ceiling(serverless * 0.25)));
        }
    }

    private static List<string> AllowedValues(JsonObject root, string parameter) =>
        [.. root["Parameters"]![parameter]!["AllowedValues"]!.AsArray().Select(v => v!.ToString())];
}
