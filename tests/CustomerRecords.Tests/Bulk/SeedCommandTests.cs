using System.Globalization;
using CustomerRecords.Tests.Cli;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace CustomerRecords.Tests.Bulk;

/// <summary>The <c>seed</c> command of the real binary on SQLite: refused in Production without --force, repeatable with --seed-value, valid rows.</summary>
public sealed class SeedCommandTests : IDisposable
{
    private readonly SqliteTempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private string[] Settings(string database) => [$"--ConnectionStrings:Customers=Data Source={Path.Combine(_directory.Path, database)}", "--Database:SeedSampleData=false"];

    private List<string> Rows(string database)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_directory.Path, database)};Pooling=false");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name || '|' || email || '|' || COALESCE(phone, '') || '|' || created_at FROM customers ORDER BY id";
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    [Fact]
    public async Task SeedIsRefusedInProductionWithoutForce()
    {
        var run = await ServiceBinary.RunAsync(_directory.Path, ["seed", "--count", "10", .. Settings("p.db")]);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("Production", run.Error, StringComparison.Ordinal);
        Assert.Contains("--force", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheSameSeedValueGivesTheSameValidCustomersAndARepeatAddsNone()
    {
        var first = await ServiceBinary.RunAsync(_directory.Path, ["seed", "--count", "300", "--seed-value", "42", "--force", .. Settings("a.db")]);
        var second = await ServiceBinary.RunAsync(_directory.Path, ["seed", "--count", "300", "--seed-value", "42", "--force", .. Settings("b.db")]);
        var repeat = await ServiceBinary.RunAsync(_directory.Path, ["seed", "--count", "300", "--seed-value", "42", "--force", .. Settings("a.db")]);

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("created 300, updated 0, unchanged 0, skipped 0, rejected 0", first.Error, StringComparison.Ordinal);
        Assert.True(repeat.ExitCode == 0, repeat.ToString());
        Assert.Contains("created 0, updated 0, unchanged 0, skipped 300", repeat.Error, StringComparison.Ordinal);
        var rows = Rows("a.db");
        Assert.Equal(300, rows.Count);
        Assert.Equal(rows, Rows("b.db"));
        Assert.Equal(300, rows.Select(r => r.Split('|')[1].ToLowerInvariant()).Distinct().Count());
        Assert.True(rows.Count(r => r.Split('|')[2].Length > 0) > 200, "most seeded customers have a phone");
        Assert.All(rows, r => Assert.True(DateTime.Parse(r.Split('|')[3], CultureInfo.InvariantCulture) < new DateTime(2026, 1, 1, 0, 0, 1)));
    }
}
