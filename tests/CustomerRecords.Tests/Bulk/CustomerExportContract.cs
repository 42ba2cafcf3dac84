using System.Data.Common;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using CustomerRecords.Api.Bulk;
using CustomerRecords.Api.Data;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Tests.Bulk;

/// <summary>
/// Bulk export on one engine: the file holds exactly the live rows of the table (every field, CSV escaping, the
/// API's JSON per NDJSON line), <c>updated_since</c> narrows it, the snapshot ignores writes made while it streams,
/// and <c>GET /customers/export</c> negotiates, streams and refuses as documented. Every HTTP exchange through
/// <see cref="ApiContractSuite.Client"/> is checked against the OpenAPI document (NDJSON line by line).
/// </summary>
public abstract class CustomerExportContract : ApiContractSuite
{
    /// <summary>Small batches, so that a few hundred rows make many batches.</summary>
    protected const int BatchSize = 20;

    private Func<long, CancellationToken, ValueTask>? _afterBatch;

    /// <summary>What the service's export runs after each batch: the test's pause, when it sets one.</summary>
    protected Func<long, CancellationToken, ValueTask>? AfterBatch
    {
        get => Volatile.Read(ref _afterBatch);
        set => Volatile.Write(ref _afterBatch, value);
    }

    protected override void ConfigureHost(IWebHostBuilder builder) =>
        builder.ConfigureServices(services => services.AddSingleton(sp => new CustomerExport(
            sp.GetRequiredService<AppDatabase>(), sp.GetRequiredService<IOptions<JsonOptions>>())
        {
            BatchSize = BatchSize,
            AfterEachBatch = (rows, ct) => AfterBatch?.Invoke(rows, ct) ?? ValueTask.CompletedTask,
            AfterClose = () => _closed.TrySetResult(),
        }));

    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when an export's snapshot has been rolled back and its connection returned.</summary>
    protected Task SnapshotClosed => _closed.Task;

    /// <summary>A row no API write can make (a line break in the name), with every character CSV must quote.</summary>
    private const string TrickyName = "Doe, \"Jay\"\nJr. Zoë 日本 🙂";

    [Fact]
    public async Task CsvHoldsEveryLiveCustomerWithEveryFieldAndItsEscaping()
    {
        var tricky = await InsertAsync(TrickyName, "tricky@example.com", phone: null);
        await FillAsync(45);
        await DeleteAsync(5);

        var (csv, result) = await ExportAsync(CustomerFileFormat.Csv);

        var table = await ReadTableAsync();
        Assert.Equal(table.Count, result.Rows);
        Assert.DoesNotContain(table, r => r.Id == 5);
        Assert.Equal(Encoding.UTF8.GetByteCount(csv), result.Bytes);
        Assert.False(csv.StartsWith('\uFEFF'), "no byte order mark");
        Assert.StartsWith("id,name,email,phone,created_at,updated_at,version\r\n", csv, StringComparison.Ordinal);
        var trickyRow = table.Single(r => r.Id == tricky);
        Assert.Contains(
            $"\r\n{tricky},\"Doe, \"\"Jay\"\"\nJr. Zoë 日本 🙂\",tricky@example.com,,{Stamp(trickyRow.CreatedAt)},{Stamp(trickyRow.UpdatedAt)},1\r\n",
            csv,
            StringComparison.Ordinal);

        var records = ParseCsv(csv);
        Assert.Equal(["id", "name", "email", "phone", "created_at", "updated_at", "version"], records[0]);
        Assert.Equal(
            table.Select(r => new[] { r.Id.ToString(CultureInfo.InvariantCulture), r.Name, r.Email, r.Phone ?? "", Stamp(r.CreatedAt), Stamp(r.UpdatedAt), r.Version.ToString(CultureInfo.InvariantCulture) }),
            records.Skip(1));
    }

    [Fact]
    public async Task NdjsonLinesAreTheApiRepresentationOfEveryLiveCustomer()
    {
        await InsertAsync(TrickyName, "tricky@example.com", phone: null);
        await FillAsync(30);
        await DeleteAsync(7);

        var (ndjson, result) = await ExportAsync(CustomerFileFormat.Ndjson);

        var table = await ReadTableAsync();
        var lines = Lines(ndjson);
        Assert.Equal(table.Count, lines.Count);
        Assert.Equal(table.Count, result.Rows);
        Assert.Equal(table.Select(r => r.Id), lines.Select(l => (int)JsonNode.Parse(l)!["id"]!));
        foreach (var (row, line) in table.Zip(lines))
        {
            // Byte for byte what GET /customers/{id} answers.
            Assert.Equal(await Client.GetStringAsync(new Uri($"/customers/{row.Id}", UriKind.Relative)), line);
        }
    }

    [Fact]
    public async Task UpdatedSinceExportsOnlyCustomersChangedAtOrAfterIt()
    {
        await FillAsync(10);
        var before = await ReadTableAsync();
        var since = before.Max(r => r.UpdatedAt).AddMilliseconds(1);
        await Task.Delay(TimeSpan.FromMilliseconds(5));
        Assert.Equal(HttpStatusCode.OK, (await Client.PatchAsync(new Uri("/customers/3", UriKind.Relative), Json.Body(new { name = "Changed Three" }))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Client.PatchAsync(new Uri("/customers/8", UriKind.Relative), Json.Body(new { name = "Changed Eight" }))).StatusCode);

        var export = Factory.Services.GetRequiredService<CustomerExport>();
        await using var snapshot = await export.OpenAsync(since, CancellationToken.None);
        using var output = new MemoryStream();
        var result = await snapshot.WriteAsync(output, CustomerFileFormat.Ndjson, null, CancellationToken.None);

        Assert.Equal(2, snapshot.Total);
        Assert.Equal(2, result.Rows);
        Assert.Equal([3, 8], Lines(Encoding.UTF8.GetString(output.ToArray())).Select(l => (int)JsonNode.Parse(l)!["id"]!));

        var query = "?updated_since=" + Uri.EscapeDataString(since.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));
        var body = await Client.GetStringAsync(new Uri("/customers/export" + query, UriKind.Relative));
        Assert.Equal(["Changed Three", "Changed Eight"], Lines(body).Select(l => (string)JsonNode.Parse(l)!["name"]!));
    }

    [Fact]
    public async Task TheExportIsTheTableAsItWasWhenItStartedWhateverIsWrittenWhileItStreams()
    {
        await FillAsync(200);
        var atStart = await ReadTableAsync();
        var wrote = 0;
        AfterBatch = async (rows, ct) =>
        {
            if (rows != BatchSize || Interlocked.Exchange(ref wrote, 1) == 1)
            {
                return;
            }

            // After the first batch: change rows already written and rows still ahead, delete some of each, add new ones.
            Assert.Equal(HttpStatusCode.OK, (await Client.PatchAsync(new Uri("/customers/5", UriKind.Relative), Json.Body(new { name = "Moved Behind" }), ct)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await Client.PatchAsync(new Uri("/customers/150", UriKind.Relative), Json.Body(new { name = "Moved Ahead" }), ct)).StatusCode);
            Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync(new Uri("/customers/10", UriKind.Relative), ct)).StatusCode);
            Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync(new Uri("/customers/160", UriKind.Relative), ct)).StatusCode);
            for (var i = 0; i < 3; i++)
            {
                Assert.Equal(HttpStatusCode.Created, (await Client.PostAsync(new Uri("/customers", UriKind.Relative), Json.Body(new { name = "Arrived Late", email = Json.UniqueEmail() }), ct)).StatusCode);
            }
        };

        var (ndjson, result) = await ExportAsync(CustomerFileFormat.Ndjson);

        Assert.Equal(1, wrote);
        var exported = Lines(ndjson).Select(l => JsonNode.Parse(l)!).Select(n => ((int)n["id"]!, (string)n["name"]!, (int)n["version"]!)).ToList();
        Assert.Equal(atStart.Select(r => (r.Id, r.Name, r.Version)), exported);
        Assert.Equal(atStart.Count, result.Rows);
        var now = await ReadTableAsync();
        Assert.NotEqual(atStart.Select(r => (r.Id, r.Name, r.Version)), now.Select(r => (r.Id, r.Name, r.Version)));
    }

    [Fact]
    public async Task TheHttpExportIsNdjsonByDefaultAsAnAttachmentThatNoCacheKeeps()
    {
        await FillAsync(45);

        var response = await Client.GetAsync(new Uri("/customers/export", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(CustomerFile.NdjsonMediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.Matches("^attachment; filename=customers-[0-9]{8}T[0-9]{6}Z\\.ndjson$", response.Content.Headers.ContentDisposition?.ToString() ?? "");
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        var lines = Lines(await response.Content.ReadAsStringAsync());
        Assert.Equal((await ReadTableAsync()).Select(r => r.Id), lines.Select(l => (int)JsonNode.Parse(l)!["id"]!));
    }

    [Fact]
    public async Task TheBulkExportAndOneCustomersExportAreTwoRoutes()
    {
        await FillAsync(2);
        var id = (await ReadTableAsync())[0].Id;

        var bulk = await Client.GetAsync(new Uri("/customers/export", UriKind.Relative));
        var one = await Client.GetAsync(new Uri($"/customers/{id}/export", UriKind.Relative));

        Assert.Equal(CustomerFile.NdjsonMediaType, bulk.Content.Headers.ContentType?.MediaType);
        Assert.Equal(id, (int)(await one.ReadObjectAsync())["customer"]!["id"]!);
    }

    [Theory]
    [InlineData("text/csv", "csv")]
    [InlineData("application/x-ndjson", "ndjson")]
    [InlineData("*/*", "ndjson")]
    [InlineData("text/*", "csv")]
    [InlineData("text/csv;q=0.5, application/x-ndjson;q=0.9", "ndjson")]
    [InlineData("application/json;q=1, text/csv;q=0.2", "csv")]
    [InlineData("application/*;q=0.3, text/csv;q=0.3", "csv")]
    public async Task AcceptChoosesTheFormat(string accept, string expected)
    {
        await FillAsync(3);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/customers/export");
        request.Headers.TryAddWithoutValidation("Accept", accept);

        var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected == "csv" ? CustomerFile.CsvMediaType : CustomerFile.NdjsonMediaType, response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        if (expected == "csv")
        {
            Assert.Equal((await ReadTableAsync()).Count + 1, ParseCsv(body).Count);
            Assert.EndsWith($".csv", response.Content.Headers.ContentDisposition?.ToString(), StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal((await ReadTableAsync()).Count, Lines(body).Count);
        }
    }

    [Theory]
    [InlineData("application/xml")]
    [InlineData("application/json")]
    [InlineData("text/csv;q=0, application/x-ndjson;q=0")]
    public async Task AnAcceptNeitherFormatMeetsIsRefusedWith406(string accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/customers/export");
        request.Headers.TryAddWithoutValidation("Accept", accept);

        var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotAcceptable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("urn:customer-records:problem:not-acceptable", (string?)(await response.ReadObjectAsync())["type"]);
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("2026-01-02T03:04:05")]
    [InlineData("2026-13-02T03:04:05Z")]
    public async Task ABadUpdatedSinceIsA400NamingIt(string value) =>
        await AssertValidationAsync(
            await Client.GetAsync(new Uri("/customers/export?updated_since=" + Uri.EscapeDataString(value), UriKind.Relative)), "updated_since");

    [Fact]
    public async Task TheFirstLinesArriveWhileTheExportIsStillBeingRead()
    {
        await FillAsync(100);
        using var paused = new SemaphoreSlim(0);
        using var release = new SemaphoreSlim(0);
        AfterBatch = async (rows, ct) =>
        {
            if (rows == BatchSize)
            {
                paused.Release();
                await release.WaitAsync(ct);
            }
        };
        using var client = Factory.Server.CreateClient();

        using var response = await client.GetAsync(new Uri("/customers/export", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(body);
        var first = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));

        // The server is held after its first batch: the line came from a response still being produced.
        Assert.True(await paused.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal((await ReadTableAsync())[0].Id, (int)JsonNode.Parse(first!)!["id"]!);
        release.Release();
        var rest = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal((await ReadTableAsync()).Count - 1, Lines(rest).Count);
    }

    /// <summary>Holds the next export after its first batch; the returned task completes when it is held there.</summary>
    protected Task HoldAfterFirstBatch(TaskCompletionSource cancelled)
    {
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        AfterBatch = async (rows, ct) =>
        {
            if (rows != BatchSize)
            {
                return;
            }

            held.TrySetResult();
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, ct);
            }
            finally
            {
                cancelled.TrySetResult();
            }
        };
        return held.Task;
    }

    protected static string Stamp(DateTime utc) => utc.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    protected async Task<(string Text, ExportResult Result)> ExportAsync(CustomerFileFormat format)
    {
        var export = Factory.Services.GetRequiredService<CustomerExport>();
        await using var snapshot = await export.OpenAsync(null, CancellationToken.None);
        using var output = new MemoryStream();
        var result = await snapshot.WriteAsync(output, format, null, CancellationToken.None);
        Assert.Equal(snapshot.Total, result.Rows);
        Assert.Equal(output.Length, result.Bytes);
        return (Encoding.UTF8.GetString(output.ToArray()), result);
    }

    protected static List<string> Lines(string ndjson)
    {
        Assert.True(ndjson.Length == 0 || ndjson.EndsWith('\n'), "every NDJSON line ends with a line break");
        return [.. ndjson.Split('\n').SkipLast(1)];
    }

    /// <summary>The live rows of the table, by id, read straight from the database.</summary>
    protected async Task<List<Row>> ReadTableAsync()
    {
        await using var connection = Connect();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, name, email, phone, created_at, updated_at, version FROM customers WHERE deleted_at IS NULL ORDER BY id";
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<Row>();
        while (await reader.ReadAsync())
        {
            rows.Add(new Row(
                reader.GetInt32(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                DateTime.SpecifyKind(reader.GetDateTime(4), DateTimeKind.Utc), DateTime.SpecifyKind(reader.GetDateTime(5), DateTimeKind.Utc), reader.GetInt32(6)));
        }

        return rows;
    }

    protected sealed record Row(int Id, string Name, string Email, string? Phone, DateTime CreatedAt, DateTime UpdatedAt, int Version);

    /// <summary>Adds <paramref name="count"/> customers by SQL (fast), with microsecond timestamps and every third without a phone.</summary>
    protected async Task FillAsync(int count)
    {
        await using var connection = Connect();
        await connection.OpenAsync();
        var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddTicks(1234560);
        var offset = Guid.NewGuid().ToString("N")[..8];
        for (var first = 0; first < count; first += 100)
        {
            await using var command = connection.CreateCommand();
            var values = new List<string>();
            for (var i = first; i < Math.Min(count, first + 100); i++)
            {
                values.Add($"(@n{i}, @e{i}, @p{i}, @t{i}, @t{i}, 1, @e{i}, @k{i})");
                var email = $"fill{i}-{offset}@example.com";
                Add(command, $"@n{i}", $"Fill {i}, \"{offset}\"");
                Add(command, $"@e{i}", email);
                Add(command, $"@p{i}", i % 3 == 0 ? null : $"+1 555 {i:0000}");
                Add(command, $"@t{i}", start.AddSeconds(i));
                Add(command, $"@k{i}", $"fill {i}, \"{offset}\"");
            }

            command.CommandText = "INSERT INTO customers (name, email, phone, created_at, updated_at, version, email_key, name_key) VALUES " + string.Join(", ", values);
            await command.ExecuteNonQueryAsync();
        }
    }

    /// <summary>Adds one customer by SQL; returns its id.</summary>
    protected async Task<int> InsertAsync(string name, string email, string? phone)
    {
        await using var connection = Connect();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO customers (name, email, phone, created_at, updated_at, version, email_key, name_key) VALUES (@n, @e, @p, @t, @t, 1, @e, @n)";
        Add(command, "@n", name);
        Add(command, "@e", email);
        Add(command, "@p", phone);
        Add(command, "@t", new DateTime(2025, 6, 7, 8, 9, 10, DateTimeKind.Utc).AddTicks(9876540));
        await command.ExecuteNonQueryAsync();
        command.CommandText = "SELECT MAX(id) FROM customers";
        return Convert.ToInt32(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    protected async Task DeleteAsync(int id) =>
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync(new Uri($"/customers/{id}", UriKind.Relative))).StatusCode);

    private static void Add(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }

    /// <summary>RFC 4180 records of <paramref name="csv"/> (quoted fields may hold commas, quotes and line breaks).</summary>
    internal static List<string[]> ParseCsv(string csv)
    {
        var records = new List<string[]>();
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < csv.Length; i++)
        {
            var c = csv[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < csv.Length && csv[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else if (c == '\r' && i + 1 < csv.Length && csv[i + 1] == '\n')
            {
                fields.Add(field.ToString());
                field.Clear();
                records.Add([.. fields]);
                fields.Clear();
                i++;
            }
            else
            {
                field.Append(c);
            }
        }

        Assert.True(field.Length == 0 && fields.Count == 0, "the CSV ends with a CRLF");
        return records;
    }
}

/// <summary>The export contract on the embedded default.</summary>
public sealed class SqliteCustomerExportTests : CustomerExportContract
{
    protected override Task<Dictionary<string, string?>> NewDatabaseSettingsAsync() => SqliteDatabaseAsync();
}

/// <summary>The export contract on MariaDB, plus what only MariaDB can show: the transaction a vanished client leaves behind (none).</summary>
[Collection(MariaDbCollection.Name)]
public sealed class MariaDbCustomerExportTests(MariaDbFixture mariaDb) : CustomerExportContract
{
    protected override Task<Dictionary<string, string?>> NewDatabaseSettingsAsync() => MariaDbDatabaseAsync(mariaDb, seedSampleData: false);

    [Fact]
    public async Task AClientThatGoesAwayMidStreamEndsTheExportAndClosesItsSnapshot()
    {
        await FillAsync(100);
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = HoldAfterFirstBatch(cancelled);
        using var client = Factory.Server.CreateClient();
        using (var response = await client.GetAsync(new Uri("/customers/export", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead))
        {
            await using var body = await response.Content.ReadAsStreamAsync();
            using var reader = new StreamReader(body);
            Assert.NotNull(await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)));
            await held.WaitAsync(TimeSpan.FromSeconds(60));

            // While it streams, the export's snapshot is an open read-only transaction on this database.
            Assert.Equal(1, await OpenTransactionsAsync());
            Assert.False(SnapshotClosed.IsCompleted);
        }

        // The client went away: the export stops and rolls its snapshot back.
        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await SnapshotClosed.WaitAsync(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task TheSnapshotIsAReadOnlyConsistentSnapshotTransaction()
    {
        await FillAsync(50);
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = HoldAfterFirstBatch(cancelled);
        using var stop = new CancellationTokenSource();
        var export = Factory.Services.GetRequiredService<CustomerExport>();
        await using var snapshot = await export.OpenAsync(null, stop.Token);
        var writing = snapshot.WriteAsync(Stream.Null, CustomerFileFormat.Csv, null, stop.Token);
        await held.WaitAsync(TimeSpan.FromSeconds(60));

        await using (var connection = ConnectAsRoot())
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT t.trx_is_read_only, t.trx_isolation_level FROM information_schema.innodb_trx t
                JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id WHERE p.db = @db
                """;
            command.Parameters.AddWithValue("@db", DatabaseName);
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal(1, Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture));
            Assert.Equal("REPEATABLE READ", reader.GetString(1));
        }

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => writing);
    }

    private string DatabaseName => new MySqlConnector.MySqlConnectionStringBuilder(Settings["ConnectionStrings:Customers"]!).Database;

    /// <summary>innodb_trx needs the PROCESS privilege, which the test database's own user lacks.</summary>
    private MySqlConnector.MySqlConnection ConnectAsRoot() => new(mariaDb.Server.RootConnectionString);

    /// <summary>The InnoDB transactions open on connections to this test's database.</summary>
    private async Task<int> OpenTransactionsAsync()
    {
        await using var connection = ConnectAsRoot();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT COUNT(*) FROM information_schema.innodb_trx t
            JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id WHERE p.db = @db
            """;
        command.Parameters.AddWithValue("@db", DatabaseName);
        return Convert.ToInt32(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }
}
