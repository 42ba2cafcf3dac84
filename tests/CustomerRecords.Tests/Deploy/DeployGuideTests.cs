namespace CustomerRecords.Tests.Deploy;

/// <summary>docs/deploy.md keeps up with the stack: its database, cache and alarm parameters and every alarm are described.</summary>
public sealed class DeployGuideTests
{
    private static readonly string Guide = Repo.Read("docs/deploy.md");

    [Theory]
    [InlineData("Database")]
    [InlineData("Cache")]
    [InlineData("Alarms")]
    public void EveryParameterOfTheGroupIsDocumented(string group)
    {
        var groups = CfnTemplate.Load().Root["Metadata"]!["AWS::CloudFormation::Interface"]!["ParameterGroups"]!.AsArray();
        var parameters = groups.Single(g => (string?)g!["Label"]!["default"] == group)!["Parameters"]!.AsArray().Select(p => (string)p!).ToList();

        Assert.NotEmpty(parameters);
        Assert.All(parameters, p => Assert.Contains($"`{p}`", Guide, StringComparison.Ordinal));
    }

    [Fact]
    public void EveryAlarmIsInTheAlarmTable()
    {
        var alarms = CfnTemplate.Load().OfType("AWS::CloudWatch::Alarm").Select(a => a.Id).ToList();

        Assert.NotEmpty(alarms);
        Assert.All(alarms.Where(a => !a.StartsWith("ReplicaLag", StringComparison.Ordinal)), a => Assert.Contains($"`{a}`", Guide, StringComparison.Ordinal));
        Assert.Contains("`ReplicaLag1Alarm` … `ReplicaLag5Alarm`", Guide, StringComparison.Ordinal);
        Assert.Equal(5, alarms.Count(a => a.StartsWith("ReplicaLag", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("aws rds restore-db-instance-to-point-in-time")]
    [InlineData("aws rds restore-db-cluster-to-point-in-time")]
    [InlineData("aws rds create-db-instance --db-cluster-identifier")]
    [InlineData("aws rds backtrack-db-cluster")]
    [InlineData("RestoredDatabaseEndpoint=")]
    [InlineData("CacheFlushOnStart=true")]
    [InlineData("sudo customer-records flush-cache")]
    public void TheRestoreRunbookGivesTheCommands(string command)
    {
        var runbook = Guide[Guide.IndexOf("## 16. Backups and point-in-time restore runbook", StringComparison.Ordinal)..];

        Assert.Contains(command, runbook, StringComparison.Ordinal);
    }

    [Fact]
    public void TheRunbooksStackParametersExist()
    {
        var parameters = CfnTemplate.Load().Root["Parameters"]!.AsObject();

        foreach (var name in new[] { "RestoredDatabaseEndpoint", "RestoredDatabaseResourceId", "CacheFlushOnStart" })
        {
            Assert.True(parameters.ContainsKey(name), name);
        }

        foreach (var output in new[] { "DatabaseIdentifier", "DatabaseSubnetGroupName", "DatabaseSecurityGroupId", "DatabaseParameterGroupName" })
        {
            Assert.True(CfnTemplate.Load().Root["Outputs"]!.AsObject().ContainsKey(output), output);
            Assert.Contains($"<{output}>", Guide, StringComparison.Ordinal);
        }
    }
}
