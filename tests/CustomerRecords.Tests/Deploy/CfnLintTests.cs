namespace CustomerRecords.Tests.Deploy;

public class CfnLintTests
{
    [Fact]
    public void CloudFormationTemplatePassesCfnLintWithoutErrorsOrWarnings()
    {
        var result = Repo.TryRun("cfn-lint", ["--", CfnTemplate.RelativePath], TimeSpan.FromMinutes(3));

        // Never skipped: an unchecked template is how a stack fails at 2 a.m. during an update.
        Assert.True(result is not null,
            "cfn-lint is not installed. Install it with `pip install cfn-lint` (Python 3.9+) and make sure it is on PATH.");
        Assert.True(result.ExitCode == 0, $"cfn-lint exit code {result.ExitCode} (2 = errors, 4 = warnings):{Environment.NewLine}{result.Output}");
    }
}
