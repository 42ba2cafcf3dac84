using System.Diagnostics;
using System.Globalization;
using System.Text;
using CustomerRecords.Tests.Cli;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace CustomerRecords.Tests.Bulk;

/// <summary>
/// The <c>import</c> command of the real binary on SQLite: exit codes, the summary on standard error, the report of
/// rejected lines, plain progress lines off a terminal, usage errors, and a process killed half way then run again.
/// </summary>
public sealed class ImportCommandTests : IDisposable
{
    private readonly SqliteTempDirectory _directory = new();

    private string Database => Path.Combine(_directory.Path, "customers.db");

    private string[] Settings => [$"--ConnectionStrings:Customers=Data Source={Database}", "--Database:SeedSampleData=false"];

    public void Dispose() => _directory.Dispose();

    private string Write(string name, string text)
    {
        var path = Path.Combine(_directory.Path, name);
        File.WriteAllText(path, text, new UTF8Encoding(false));
        return path;
    }

    private long Count(string sql = "SELECT COUNT(*) FROM customers")
    {
        using var connection = new SqliteConnection($"Data Source={Database};Pooling=false");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static string Rows(int count) =>
        "name,email,phone\n" + string.Concat(Enumerable.Range(1, count).Select(i => $"Person {i},person{i}@example.org,+1 555 {i % 10000:0000}\n"));

    [Fact]
    public async Task AllRowsInExitsZeroWithTheSummaryOnStandardError()
    {
        var file = Write("people.csv", Rows(5));

        var run = await ServiceBinary.RunAsync(_directory.Path, ["import", file, .. Settings]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Matches(@"import: read 5, created 5, updated 0, unchanged 0, skipped 0, rejected 0, [0-9.]+ s", run.Error);
        Assert.Equal(5, Count());
        Assert.False(File.Exists(file + ".rejected.csv"));
    }

    [Fact]
    public async Task RejectedLinesExitThreeAndAreListedInTheReportWithoutTheirValues()
    {
        var file = Write("people.csv", "name,email\nGood,good@example.org\nSecret Name,not-an-address\n");

        var run = await ServiceBinary.RunAsync(_directory.Path, ["import", file, .. Settings]);

        Assert.True(run.ExitCode == 3, run.ToString());
        Assert.Contains("rejected 1", run.Error, StringComparison.Ordinal);
        var report = await File.ReadAllTextAsync(file + ".rejected.csv");
        Assert.StartsWith("line,field,reason", report, StringComparison.Ordinal);
        Assert.Contains("3,email,The email is not a valid address.", report, StringComparison.Ordinal);
        Assert.DoesNotContain("not-an-address", report + run.Error + run.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("Secret Name", report + run.Error + run.Out, StringComparison.Ordinal);
        Assert.Equal(1, Count());
    }

    [Fact]
    public async Task AFileErrorExitsOneNamingTheLine()
    {
        var file = Write("people.csv", "name,email,shoe_size\nA,a@example.org,42\n");

        var run = await ServiceBinary.RunAsync(_directory.Path, ["import", file, .. Settings]);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("Stopped at line 1", run.Error, StringComparison.Ordinal);
        Assert.Contains("'shoe_size'", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMissingFileIsOneMessageAndExitOne()
    {
        var run = await ServiceBinary.RunAsync(_directory.Path, ["import", Path.Combine(_directory.Path, "nowhere.csv"), .. Settings]);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("nowhere.csv", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-")]
    [InlineData("people.txt")]
    public async Task WithoutAFormatToGoByItIsAUsageError(string file)
    {
        var run = await ServiceBinary.RunAsync(_directory.Path, ["import", file, .. Settings]);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("--format", run.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Database));
    }

    [Fact]
    public async Task ABatchSizeOutOfRangeIsAUsageError()
    {
        var run = await ServiceBinary.RunAsync(_directory.Path, ["import", Write("p.csv", Rows(1)), "--batch-size", "0", .. Settings]);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("--batch-size", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnImportKilledHalfWayFinishesWhenRunAgainWithoutDuplicatesOrLosses()
    {
        const int rows = 200_000;
        var file = Write("many.csv", Rows(rows));
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = _directory.Path, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in (string[])[Path.Combine(AppContext.BaseDirectory, "CustomerRecords.Api.dll"), "import", file, "--batch-size", "500", .. Settings])
        {
            start.ArgumentList.Add(arg);
        }

        using (var process = Process.Start(start)!)
        {
            ChildProcessRegistry.Add(process);
            try
            {
                _ = process.StandardOutput.ReadToEndAsync();
                _ = process.StandardError.ReadToEndAsync();
                var waited = Stopwatch.StartNew();
                while (!process.HasExited && SafeCount() < 2_000 && waited.Elapsed < TimeSpan.FromMinutes(2))
                {
                    await Task.Delay(50);
                }

                Assert.False(process.HasExited, "the import ended before it could be killed half way; the file is too small for this machine");
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
            finally
            {
                ChildProcessRegistry.Remove(process);
            }
        }

        var partial = Count();
        Assert.InRange(partial, 2_000, rows - 1);
        Assert.Equal(partial, Count("SELECT COUNT(*) FROM customer_events"));

        var run = await ServiceBinary.RunAsync(_directory.Path, ["import", file, .. Settings], timeout: TimeSpan.FromMinutes(5));

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"created {rows - partial},"), run.Error, StringComparison.Ordinal);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"skipped {partial},"), run.Error, StringComparison.Ordinal);
        Assert.Equal(rows, Count());
        Assert.Equal(rows, Count("SELECT COUNT(DISTINCT email_key) FROM customers"));
        Assert.Equal(rows, Count("SELECT COUNT(*) FROM customer_events"));

        // Off a terminal, progress is plain lines on standard error (one every 5 s at most), never bar drawing.
        Assert.DoesNotContain('\r', run.Error);
    }

    private long SafeCount()
    {
        try
        {
            return File.Exists(Database) ? Count() : 0;
        }
        catch (SqliteException)
        {
            // The table is not there yet, or the writer holds the lock.
            return 0;
        }
    }
}
