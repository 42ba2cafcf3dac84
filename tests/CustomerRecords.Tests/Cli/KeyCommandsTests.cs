using CustomerRecords.Api.Auth;
using CustomerRecords.Api.Cli;


namespace CustomerRecords.Tests.Cli;

public sealed class KeyCommandsTests
{
    [Fact]
    public void HashKeyPrintsTheStoredForm()
    {
        using var output = new StringWriter();
        Assert.True(KeyCommands.TryRun(["hash-key", "crk_example"], output, TextReader.Null));
        Assert.Equal(ApiKeyHash.Hash("crk_example"), output.ToString().Trim());
        Assert.Matches("^sha256:[A-Za-z0-9_-]{43}$", output.ToString().Trim());
    }

    [Fact]
    public void HashKeyReadsTheKeyFromStandardInput()
    {
        using var output = new StringWriter();
        Assert.True(KeyCommands.TryRun(["hash-key"], output, new StringReader("crk_from_stdin\n")));
        Assert.Equal(ApiKeyHash.Hash("crk_from_stdin"), output.ToString().Trim());
    }

    [Fact]
    public void GenerateKeyPrintsAKeyAndItsHash()
    {
        using var output = new StringWriter();
        Assert.True(KeyCommands.TryRun(["generate-key", "crm-sync", Scopes.Read, Scopes.Write], output, TextReader.Null));
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
        Assert.False(KeyCommands.TryRun([], TextWriter.Null, TextReader.Null));
        Assert.False(KeyCommands.TryRun(["--urls", "http://localhost:5000"], TextWriter.Null, TextReader.Null));
    }

    [Fact]
    public void GeneratedKeysAreUnique() => Assert.NotEqual(ApiKeyHash.GenerateKey(), ApiKeyHash.GenerateKey());
}
