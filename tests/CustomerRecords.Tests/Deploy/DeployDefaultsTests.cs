namespace CustomerRecords.Tests.Deploy;

/// <summary>Every deploy configuration says explicitly that a real database gets no sample data, and gives the instances one cursor key.</summary>
public sealed class DeployDefaultsTests
{
    [Theory]
    [InlineData("deploy/cloudformation/customer-records.yaml")]
    [InlineData("deploy/ec2/customer-records.env.example")]
    [InlineData("deploy/docker/compose.yaml")]
    public void EachDeployConfigurationTurnsSampleDataOffAndSetsACursorKey(string file)
    {
        var text = Repo.Read(file);

        Assert.Matches(@"Database__SeedSampleData[=:] *""?false""?", text);
        Assert.Matches(@"Customers__CursorKey[=:]", text);
    }

    [Fact]
    public void TheStackGeneratesTheCursorKeyAndLetsOnlyTheInstancesReadIt()
    {
        var template = Repo.Read("deploy/cloudformation/customer-records.yaml");

        Assert.Contains("CursorKey:\n    Type: AWS::SecretsManager::Secret", template, StringComparison.Ordinal);
        Assert.Contains("Resource: [!Ref CacheAuthToken, !Ref CursorKey]", template, StringComparison.Ordinal);
        Assert.Contains("Customers__CursorKey=$cursor_key", template, StringComparison.Ordinal);
    }
}
