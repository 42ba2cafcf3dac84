using System.Diagnostics;
using CustomerRecords.Tests.Cli;
using CustomerRecords.Tests.Infrastructure;
using MySqlConnector;

namespace CustomerRecords.Tests.Bulk;

/// <summary>
/// docs/migrating.md on a real MariaDB: the original tutorial's table with awkward rows, exported with the
/// client exactly as documented, imported with <c>import</c> into the service's own database, compared row by row.
/// </summary>
[Collection(MariaDbCollection.Name)]
public sealed class MigratingGuideTests(MariaDbFixture mariaDb) : IDisposable
{
    /// <summary>The export query of the guide, word for word.</summary>
    private const string ExportSql =
        "SET time_zone = '+00:00'; SELECT JSON_OBJECT('id', id, 'name', name, 'email', email, 'phone', phone, 'created_at', DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s')) FROM customers ORDER BY id";

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private static string Guide() => File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "migrating.md"));

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "CustomerRecords.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("The repository root was not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public async Task TheDocumentedExportImportsTheOriginalTableUnchanged()
    {
        Assert.Contains(ExportSql, Guide(), StringComparison.Ordinal);
        Assert.Contains("--default-character-set=utf8mb4 --batch --raw --skip-column-names", Guide(), StringComparison.Ordinal);

        var source = new MySqlConnectionStringBuilder(await mariaDb.CreateDatabaseAsync());
        await using (var connection = new MySqlConnection(source.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = """
                SET time_zone = '+00:00';
                CREATE TABLE customers (
                    id INT AUTO_INCREMENT PRIMARY KEY,
                    name VARCHAR(255) NOT NULL,
                    email VARCHAR(255) NOT NULL UNIQUE,
                    phone VARCHAR(20),
                    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
                    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
                );
                INSERT INTO customers (id, name, email, phone, created_at) VALUES
                (1, 'John Doe', 'john.doe@example.com', '+1-555-0123', '2024-01-02 03:04:05'),
                (2, 'Doe, Jane "JJ"', 'jane.smith@example.com', NULL, '2024-02-03 04:05:06'),
                (5, 'Zoë Ñúñez 李小龍', 'zoe@example.com', '+44 20 7946 0958', '2024-03-04 05:06:07'),
                (9, 'Back\\slash\tTab', 'tab@example.com', '', '2024-04-05 06:07:08'),
                (10, 'NULL', 'null@example.com', NULL, '2024-05-06 07:08:09');
                """;
            await command.ExecuteNonQueryAsync();
        }

        var file = Path.Combine(_directory.Path, "customers.ndjson");
        var client = new ProcessStartInfo(ServerBinaries.Locate("mariadb", "mysql")) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])[$"--host={source.Server}", $"--port={source.Port}", $"--user={source.UserID}", $"--password={source.Password}", $"--database={source.Database}",
            "--default-character-set=utf8mb4", "--batch", "--raw", "--skip-column-names", "-e", ExportSql])
        {
            client.ArgumentList.Add(arg);
        }

        using (var process = Process.Start(client)!)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, await errors);
            await File.WriteAllTextAsync(file, await output);
        }

        var target = await mariaDb.CreateDatabaseAsync();
        var run = await ServiceBinary.RunAsync(_directory.Path, ["import", file, "--Database:Provider=mysql", $"--ConnectionStrings:Customers={target}"]);

        // The tab in row 9 is a control character the API refuses in a name: rejected with its line, the rest in.
        Assert.True(run.ExitCode == 3, run.ToString());
        Assert.Contains("read 5, created 4, updated 0, unchanged 0, skipped 0, rejected 1", run.Error, StringComparison.Ordinal);
        Assert.Contains("4,name,The name must not contain control characters.", await File.ReadAllTextAsync(file + ".rejected.csv"), StringComparison.Ordinal);

        await using var imported = new MySqlConnection(target);
        await imported.OpenAsync();
        await using var read = imported.CreateCommand();
        read.CommandText = "SELECT id, name, email, COALESCE(phone, '<null>'), DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s') FROM customers ORDER BY id";
        var rows = new List<string>();
        await using (var reader = await read.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                rows.Add(string.Join('|', Enumerable.Range(0, 5).Select(i => Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
            }
        }

        Assert.Equal(
            [
                "1|John Doe|john.doe@example.com|+1-555-0123|2024-01-02 03:04:05",
                "2|Doe, Jane \"JJ\"|jane.smith@example.com|<null>|2024-02-03 04:05:06",
                "5|Zoë Ñúñez 李小龍|zoe@example.com|+44 20 7946 0958|2024-03-04 05:06:07",
                "10|NULL|null@example.com|<null>|2024-05-06 07:08:09",
            ],
            rows);
    }
}
