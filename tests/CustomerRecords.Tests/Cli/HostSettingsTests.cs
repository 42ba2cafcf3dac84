using CustomerRecords.Api.Cli;

namespace CustomerRecords.Tests.Cli;

/// <summary>Which arguments go to the host as settings and which the command line parses.</summary>
public sealed class HostSettingsTests
{
    private static readonly HashSet<string> Options = ["--status", "--verbose", "--help", "-h", "--version"];

    [Fact]
    public void SettingsInBothFormsGoToTheHostInOrder()
    {
        var split = HostSettings.Separate(
            ["migrate", "--ConnectionStrings:Customers=Server=db;Port=3306", "--status", "--urls", "http://127.0.0.1:5000", "--Database:MaxRetries", "-1"],
            Options);

        Assert.Equal(["migrate", "--status"], split.Arguments);
        Assert.Equal(["--ConnectionStrings:Customers=Server=db;Port=3306", "--urls", "http://127.0.0.1:5000", "--Database:MaxRetries", "-1"], split.Settings);
        Assert.Empty(split.Errors);
    }

    [Fact]
    public void TheCommandLinesOwnOptionsArePassedToTheParser()
    {
        var split = HostSettings.Separate(["--verbose", "--status=true", "-h", "/path/file.csv", "word=value"], Options);

        Assert.Equal(["--verbose", "--status=true", "-h", "/path/file.csv", "word=value"], split.Arguments);
        Assert.Empty(split.Settings);
    }

    [Theory]
    [InlineData("--frobnicate")]
    [InlineData("--urls", "--verbose")]
    [InlineData("--=x")]
    public void AnOptionThatIsNeitherIsAnError(params string[] args)
    {
        var split = HostSettings.Separate(args, Options);

        Assert.Contains(args[0].Split('=')[0], Assert.Single(split.Errors), StringComparison.Ordinal);
        Assert.Empty(split.Settings);
    }

    [Fact]
    public void EverythingAfterADoubleDashIsAnArgument()
    {
        var split = HostSettings.Separate(["hash-key", "--", "--looks-like-an-option"], Options);

        Assert.Equal(["hash-key", "--", "--looks-like-an-option"], split.Arguments);
        Assert.Empty(split.Errors);
    }

    [Fact]
    public void TheWebApplicationFactorysArgumentsAreSettings()
    {
        var meaning = CommandLineApp.Explain(["--environment=Development", "--contentRoot=/srv/app", "--applicationName=CustomerRecords.Api"]);

        Assert.Equal(CommandLineApp.ServeCommandName, meaning.Command);
        Assert.Equal(3, meaning.Settings.Count);
        Assert.Empty(meaning.Errors);
    }

    [Fact]
    public void ACommandThatStartsNoHostRefusesSettings()
    {
        var meaning = CommandLineApp.Explain(["generate-key", "--urls", "http://127.0.0.1:5000"]);

        Assert.Contains("takes no settings", Assert.Single(meaning.Errors), StringComparison.Ordinal);
    }
}
