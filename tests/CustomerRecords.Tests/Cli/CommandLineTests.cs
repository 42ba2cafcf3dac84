using System.Diagnostics;
using CustomerRecords.Api.Data;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace CustomerRecords.Tests.Cli;

/// <summary>
/// The command line of the real binary: help on the root and on each command, the version, usage errors that start
/// nothing, and <c>migrate</c> reporting the schema version (with <c>--status</c>, changing nothing).
/// </summary>
public sealed class CommandLineTests
{
    private static readonly int[] Versions = [.. Migrator.LoadScripts(SqlDialect.Sqlite).Select(s => s.Version)];
    private static readonly int Latest = Versions[^1];

    [Theory]
    [InlineData("help")]
    [InlineData("--help")]
    [InlineData("-h")]
    public async Task HelpListsTheCommandsAndStartsNothing(string word)
    {
        using var directory = new TempDirectory();

        var run = await ServiceBinary.RunAsync(directory.Path, [word]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("Usage:", run.Out, StringComparison.Ordinal);
        foreach (var command in new[] { "serve", "migrate", "hash-key", "generate-key", "help" })
        {
            Assert.Contains($"  {command}", run.Out, StringComparison.Ordinal);
        }

        Assert.Contains("--version", run.Out, StringComparison.Ordinal);
        Assert.Contains("--Section:Key=value", run.Out, StringComparison.Ordinal);
        Assert.Equal("", run.Error);
        AssertNothingStarted(directory.Path);
    }

    [Theory]
    [InlineData("migrate", "--help")]
    [InlineData("help", "migrate")]
    public async Task MigrateHasItsOwnHelp(string first, string second)
    {
        using var directory = new TempDirectory();

        var run = await ServiceBinary.RunAsync(directory.Path, [first, second]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("CustomerRecords.Api migrate [options]", run.Out, StringComparison.Ordinal);
        Assert.Contains("--status", run.Out, StringComparison.Ordinal);
        Assert.Contains("Database:StartupTimeout", run.Out, StringComparison.Ordinal);
        AssertNothingStarted(directory.Path);
    }

    [Theory]
    [InlineData("hash-key")]
    [InlineData("generate-key")]
    [InlineData("serve")]
    [InlineData("flush-cache")]
    [InlineData("export")]
    [InlineData("import")]
    [InlineData("seed")]
    public async Task EveryCommandHasHelp(string command)
    {
        using var directory = new TempDirectory();

        var run = await ServiceBinary.RunAsync(directory.Path, [command, "--help"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains($"CustomerRecords.Api {command}", run.Out, StringComparison.Ordinal);
        AssertNothingStarted(directory.Path);
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("--frobnicate")]
    [InlineData("migrate", "--frobnicate")]
    [InlineData("migrate", "frobnicate")]
    [InlineData("hash-key", "one", "two")]
    [InlineData("generate-key", "client", "customers:admin")]
    public async Task AnUnknownCommandOrOptionIsAUsageErrorAndStartsNothing(params string[] args)
    {
        using var directory = new TempDirectory();

        var run = await ServiceBinary.RunAsync(directory.Path, args);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains(args[^1].Split(':')[^1], run.Error, StringComparison.Ordinal);
        Assert.Contains("Usage:", run.Error, StringComparison.Ordinal);
        Assert.Equal("", run.Out);
        AssertNothingStarted(directory.Path);
    }

    [Fact]
    public async Task VersionPrintsTheInformationalVersion()
    {
        using var directory = new TempDirectory();

        var run = await ServiceBinary.RunAsync(directory.Path, ["--version"]);

        // The informational version of the file that ran (its ProductVersion), e.g. 1.0.0+<commit>.
        var expected = FileVersionInfo.GetVersionInfo(Path.Combine(AppContext.BaseDirectory, "CustomerRecords.Api.dll")).ProductVersion;
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(expected, run.Out.Trim());
        Assert.Matches(@"^\d+\.\d+\.\d+", run.Out);
        AssertNothingStarted(directory.Path);
    }

    [Fact]
    public async Task MigrateStatusOnANewDatabaseReportsEverythingPendingAndCreatesNothing()
    {
        using var directory = new TempDirectory();
        var database = Path.Combine(directory.Path, "new.db");

        var run = await ServiceBinary.RunAsync(directory.Path, ["migrate", "--status", $"--ConnectionStrings:Customers=Data Source={database}"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.StartsWith("Schema version 0 ", run.Out, StringComparison.Ordinal);
        Assert.Contains($"latest is {Latest}, pending {string.Join(", ", Versions)}", run.Out, StringComparison.Ordinal);
        Assert.False(File.Exists(database), "--status must not create the database file");
    }

    [Fact]
    public async Task MigratePrintsTheVersionBeforeAndAfterAndStatusAppliesNothing()
    {
        using var directory = new TempDirectory();
        var database = Path.Combine(directory.Path, "customers.db");
        string[] settings = [$"--ConnectionStrings:Customers=Data Source={database}"];
        await CreateSchemaUpToAsync(database, 2);

        var status = await ServiceBinary.RunAsync(directory.Path, ["migrate", "--status", .. settings]);
        Assert.True(status.ExitCode == 0, status.ToString());
        var pending = Versions.Where(v => v > 2).ToList();
        Assert.Equal($"Schema version 2; latest is {Latest}, pending {string.Join(", ", pending)}: run 'migrate' to apply", status.Out.Trim());
        Assert.Equal([1, 2], await AppliedAsync(database));

        var migrate = await ServiceBinary.RunAsync(directory.Path, ["migrate", .. settings]);
        Assert.True(migrate.ExitCode == 0, migrate.ToString());
        Assert.Equal($"Schema version 2 → {Latest} (applied {string.Join(", ", pending)})", migrate.Out.Trim());
        Assert.Equal(Versions, await AppliedAsync(database));

        var again = await ServiceBinary.RunAsync(directory.Path, ["migrate", .. settings]);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal($"Schema is up to date at version {Latest}", again.Out.Trim());

        var upToDate = await ServiceBinary.RunAsync(directory.Path, ["migrate", "--status", .. settings]);
        Assert.True(upToDate.ExitCode == 0, upToDate.ToString());
        Assert.Equal($"Schema is up to date at version {Latest}", upToDate.Out.Trim());
    }

    [Fact]
    public async Task MigrateOnANewDatabaseAppliesEverything()
    {
        using var directory = new TempDirectory();
        var database = Path.Combine(directory.Path, "fresh.db");

        var run = await ServiceBinary.RunAsync(directory.Path, ["migrate", $"--ConnectionStrings:Customers=Data Source={database}"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal($"Schema version 0 → {Latest} (applied {string.Join(", ", Versions)})", run.Out.Trim());

        // Progress (the log) goes to standard error; standard output is the result alone.
        Assert.Contains("Applying schema migration 1", run.Error, StringComparison.Ordinal);
        Assert.Equal(Versions, await AppliedAsync(database));
    }

    /// <summary>Neither the default SQLite file nor its folder appeared: no host was built.</summary>
    private static void AssertNothingStarted(string workingDirectory) =>
        Assert.False(Directory.Exists(Path.Combine(workingDirectory, "data")), "a usage error or help must not create the default database");

    /// <summary>A database as an older build left it: the migrations up to <paramref name="version"/> applied and recorded.</summary>
    private static async Task CreateSchemaUpToAsync(string database, int version)
    {
        await using var connection = new SqliteConnection($"Data Source={database};Pooling=False");
        await connection.OpenAsync();
        await using (var create = connection.CreateCommand(SqlDialect.Sqlite.CreateMigrationsTable))
        {
            await create.ExecuteNonQueryAsync();
        }

        foreach (var script in Migrator.LoadScripts(SqlDialect.Sqlite).Where(s => s.Version <= version))
        {
            await using var apply = connection.CreateCommand(script.Sql);
            await apply.ExecuteNonQueryAsync();
            await using var record = connection.CreateCommand("INSERT INTO schema_migrations (version, name, applied_at) VALUES (@v, @n, @at)")
                .With("@v", script.Version).With("@n", script.Name).With("@at", DateTime.UtcNow);
            await record.ExecuteNonQueryAsync();
        }
    }

    private static async Task<List<int>> AppliedAsync(string database)
    {
        await using var connection = new SqliteConnection($"Data Source={database};Pooling=False");
        await connection.OpenAsync();
        await using var query = connection.CreateCommand("SELECT version FROM schema_migrations ORDER BY version");
        await using var reader = await query.ExecuteReaderAsync();
        var versions = new List<int>();
        while (await reader.ReadAsync())
        {
            versions.Add(reader.GetInt32(0));
        }

        return versions;
    }
}
