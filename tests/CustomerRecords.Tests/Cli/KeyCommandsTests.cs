using CustomerRecords.Api.Auth;
using CustomerRecords.Api.Cli;

namespace CustomerRecords.Tests.Cli;

public sealed class KeyCommandsTests
{
    [Fact]
    public async Task HashKeyPrintsTheStoredForm()
    {
        using var output = new StringWriter();
        Assert.Equal(0, await RunAsync(["hash-key", "crk_example"], output, TextReader.Null));
        Assert.Equal(ApiKeyHash.Hash("crk_example"), output.ToString().Trim());
        Assert.Matches("^sha256:[A-Za-z0-9_-]{43}$", output.ToString().Trim());
    }

    [Fact]
    public async Task HashKeyReadsTheKeyFromStandardInput()
    {
        using var output = new StringWriter();
        Assert.Equal(0, await RunAsync(["hash-key"], output, new StringReader("crk_from_stdin\n")));
        Assert.Equal(ApiKeyHash.Hash("crk_from_stdin"), output.ToString().Trim());
    }

    [Fact]
    public async Task GenerateKeyPrintsAKeyAndItsHash()
    {
        using var output = new StringWriter();
        Assert.Equal(0, await RunAsync(["generate-key", "crm-sync", Scopes.Read, Scopes.Write], output, TextReader.Null));
        var lines = output.ToString().Split('\n', StringSplitOptions.TrimEntries);
        var key = lines.Single(l => l.StartsWith("key:", StringComparison.Ordinal))[4..].Trim();
        var hash = lines.Single(l => l.StartsWith("hash:", StringComparison.Ordinal))[5..].Trim();

        Assert.Matches("^crk_[A-Za-z0-9_-]{43}$", key);
        Assert.Equal(ApiKeyHash.Hash(key), hash);
        Assert.Contains($"Auth__ApiKeys__0__Hash={hash}", lines);
        Assert.Contains("Auth__ApiKeys__0__Scopes__1=customers:write", lines);
    }

    [Fact]
    public void OtherArgumentsAreLeftToTheHost()
    {
        Assert.Equal(CommandLineApp.ServeCommandName, CommandLineApp.Explain([]).Command);
        var urls = CommandLineApp.Explain(["--urls", "http://localhost:5000"]);
        Assert.Equal(CommandLineApp.ServeCommandName, urls.Command);
        Assert.Equal(["--urls", "http://localhost:5000"], urls.Settings);
    }

    [Fact]
    public void GeneratedKeysAreUnique() => Assert.NotEqual(ApiKeyHash.GenerateKey(), ApiKeyHash.GenerateKey());

    /// <summary>The command line as the process runs it, with these streams; no host is ever built for key commands.</summary>
    private static Task<int> RunAsync(string[] args, TextWriter output, TextReader input) =>
        CommandLineApp.RunAsync(args, _ => throw new InvalidOperationException("key commands start nothing"), new CliConsole(output, TextWriter.Null, input));
}
