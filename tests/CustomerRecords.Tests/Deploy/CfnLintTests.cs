using System.Text.Json.Nodes;

namespace CustomerRecords.Tests.Deploy;

public class CfnLintTests
{
    [Fact]
    public void CloudFormationTemplatePassesCfnLintWithoutErrorsOrWarnings()
    {
        // One run covers every database option: cfn-lint evaluates all combinations of the Conditions.
        AssertLintClean(CfnTemplate.RelativePath);
    }

    public static TheoryData<string, int, int, string> Options() => new()
    {
        { "rds-mysql", 0, 0, "0.5" },
        { "rds-mysql", 5, 0, "0.5" },
        { "aurora-mysql", 0, 2, "0.5" },
        { "aurora-serverless-v2", 0, 1, "0" },
    };

    /// <summary>
    /// Each option again, as CloudFormation would see it: Conditions evaluated (see <see cref="CfnConditions"/>), then
    /// only the parameters that option still uses. A stricter check than the combined run, which accepts a reference
    /// when some condition combination makes it valid.
    /// </summary>
    [Theory]
    [MemberData(nameof(Options))]
    public void EachDatabaseOptionResolvedPassesCfnLintWithoutErrorsOrWarnings(string engine, int replicas, int readers, string minCapacity)
    {
        var option = new DatabaseOptionsTests.DbOption(engine, replicas, readers, minCapacity);
        var root = CfnConditions.Resolve(CfnTemplate.Load(), option.Parameters()).Root;
        root.Remove("Conditions");
        root.Remove("Metadata");
        foreach (var section in new[] { "Resources", "Outputs" })
        {
            foreach (var (_, entry) in root[section]!.AsObject())
            {
                entry!.AsObject().Remove("Condition");
            }
        }

        var used = CfnConditions.ReferencedNames(new CfnTemplate(root));
        var parameters = root["Parameters"]!.AsObject();
        foreach (var name in parameters.Select(p => p.Key).Where(p => !used.Contains(p)).ToList())
        {
            parameters.Remove(name);
        }

        // Likewise the mappings only another option looks up (each database engine has its own pool sizes).
        var lookedUp = root.ToJsonString();
        if (root["Mappings"] is JsonObject mappings)
        {
            foreach (var name in mappings.Select(m => m.Key).Where(m => !lookedUp.Contains($"\"Fn::FindInMap\":[\"{m}\"", StringComparison.Ordinal)).ToList())
            {
                mappings.Remove(name);
            }
        }

        using var directory = new CustomerRecords.Tests.Infrastructure.TempDirectory();
        var path = Path.Combine(directory.Path, $"{engine}-{replicas}-{readers}.json");
        File.WriteAllText(path, root.ToJsonString());

        AssertLintClean(path);
    }

    private static void AssertLintClean(string template)
    {
        var result = Repo.TryRun("cfn-lint", ["--", template], TimeSpan.FromMinutes(3));

        // Never skipped: an unchecked template is how a stack fails at 2 a.m. during an update.
        Assert.True(result is not null,
            "cfn-lint is not installed. Install it with `pip install cfn-lint` (Python 3.9+) and make sure it is on PATH.");
        Assert.True(result.ExitCode == 0, $"cfn-lint exit code {result.ExitCode} (2 = errors, 4 = warnings):{Environment.NewLine}{result.Output}");
    }
}
