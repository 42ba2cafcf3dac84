using System.Data.Common;
using System.Globalization;
using System.Text;
using CustomerRecords.Api.Bulk;
using CustomerRecords.Api.Customers;
using CustomerRecords.Api.Data;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerRecords.Tests.Bulk;

/// <summary>An app on a new database of the engine under test, and the import engine run on text of the test's.</summary>
public abstract class ImportSuite : ApiContractSuite
{
    private static readonly ChangeContext Actor = new("cli:import", null);

    protected override void ConfigureSettings(Dictionary<string, string?> settings)
    {
        settings["RateLimit:Enabled"] = "false";
        settings["Database:SeedSampleData"] = "false";
    }

    private protected Task<ImportSummary> ImportAsync(
        string text, ImportOptions? options = null, List<ImportRejection>? rejected = null, CustomerFileFormat format = CustomerFileFormat.Csv,
        Action<ImportSummary>? progress = null, CancellationToken ct = default) =>
        ImportAsync(Encoding.UTF8.GetBytes(text), options, rejected, format, progress, ct);

    private protected Task<ImportSummary> ImportAsync(
        byte[] bytes, ImportOptions? options = null, List<ImportRejection>? rejected = null, CustomerFileFormat format = CustomerFileFormat.Csv,
        Action<ImportSummary>? progress = null, CancellationToken ct = default) =>
        Factory.Services.GetRequiredService<CustomerImporter>().RunAsync(
            CustomerFileReader.ReadAsync(new MemoryStream(bytes), format, ct),
            options ?? new ImportOptions(),
            Actor,
            r => rejected?.Add(r),
            progress ?? (_ => { }),
            TimeProvider.System,
            ct);

    private protected async Task<long> ScalarAsync(string sql)
    {
        await using var connection = Connect();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    private protected async Task<List<string>> ColumnAsync(string sql)
    {
        await using var connection = Connect();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        var values = new List<string>();
        await using DbDataReader reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            values.Add(reader.IsDBNull(0) ? "NULL" : Convert.ToString(reader.GetValue(0), CultureInfo.InvariantCulture)!);
        }

        return values;
    }

}

/// <summary>
/// The import engine on each engine: rows in with their history events, re-runs that create nothing twice, the
/// conflict policies, the id and created_at columns, dry runs, and a run stopped at a batch boundary then resumed.
/// </summary>
public abstract class ImportContract : ImportSuite
{
    private static string Rows(int from, int count) =>
        "name,email,phone\n" + string.Concat(Enumerable.Range(from, count).Select(i => $"Person {i},person{i}@example.org,+1 555 {i:0000}\n"));

    [Fact]
    public async Task ValidRowsGoInEachWithItsCreatedEventByTheImportActor()
    {
        var summary = await ImportAsync(Rows(1, 25), new ImportOptions(BatchSize: 10));

        Assert.Equal((25L, 25L, 0L), (summary.Read, summary.Created, summary.Rejected));
        Assert.Equal(0, summary.ExitCode);
        Assert.Equal(25, await ScalarAsync("SELECT COUNT(*) FROM customers"));
        Assert.Equal(25, await ScalarAsync("SELECT COUNT(*) FROM customer_events WHERE kind = 'created' AND actor = 'cli:import' AND version = 1"));
        Assert.Equal(25, await ScalarAsync("SELECT COUNT(DISTINCT customer_id) FROM customer_events e JOIN customers c ON c.id = e.customer_id"));
        var read = await GetObjectAsync($"/customers/{await ScalarAsync("SELECT id FROM customers WHERE email = 'person7@example.org'")}");
        Assert.Equal("Person 7", (string?)read["name"]);
        Assert.Equal("+1 555 0007", (string?)read["phone"]);
    }

    [Fact]
    public async Task TheSameImportTwiceCreatesNothingTheSecondTime()
    {
        await ImportAsync(Rows(1, 30), new ImportOptions(BatchSize: 7));
        var again = await ImportAsync(Rows(1, 30), new ImportOptions(BatchSize: 7));

        Assert.Equal((30L, 0L, 30L, 0), (again.Read, again.Created, again.Skipped, again.ExitCode));
        Assert.Equal(30, await ScalarAsync("SELECT COUNT(*) FROM customers"));
        Assert.Equal(30, await ScalarAsync("SELECT COUNT(*) FROM customer_events"));
    }

    [Fact]
    public async Task AnImportStoppedAtABatchBoundaryFinishesWhenRunAgainWithoutDuplicates()
    {
        using var stop = new CancellationTokenSource();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            ImportAsync(Rows(1, 50), new ImportOptions(BatchSize: 10), progress: s => { if (s.Created >= 20) { stop.Cancel(); } }, ct: stop.Token));
        var partial = await ScalarAsync("SELECT COUNT(*) FROM customers");
        Assert.InRange(partial, 20, 49);

        var resumed = await ImportAsync(Rows(1, 50), new ImportOptions(BatchSize: 10));

        Assert.Equal(50 - partial, resumed.Created);
        Assert.Equal(partial, resumed.Skipped);
        Assert.Equal(50, await ScalarAsync("SELECT COUNT(*) FROM customers"));
        Assert.Equal(50, await ScalarAsync("SELECT COUNT(DISTINCT email_key) FROM customers"));
        Assert.Equal(50, await ScalarAsync("SELECT COUNT(*) FROM customer_events"));
    }

    [Fact]
    public async Task AFileErrorAfterWholeBatchesKeepsThemAndCountsAndReportsEveryLineBeforeItInOrder()
    {
        // The reader runs ahead of the writer: what the caller sees must still be what a reader in step would see.
        var file = "name,email\nA,a@example.org\nBad,not-an-email\nB,b@example.org\nC,c@example.org\nA2,A@example.org\nD,d@example.org\n" +
            "E,e@example.org\n\"" + new string('x', CustomerFileReader.MaxFieldChars + 1) + "\",big@example.org\n";
        var rejected = new List<ImportRejection>();

        var summary = await ImportAsync(file, new ImportOptions(BatchSize: 2), rejected);

        Assert.True(summary.FileError);
        Assert.Equal(9, summary.StoppedAtLine);
        Assert.Equal(7, summary.CommittedThroughLine);
        Assert.Equal((7L, 4L, 2L), (summary.Read, summary.Created, summary.Rejected));
        Assert.Equal([3L, 6L], rejected.Select(r => r.Line));
        Assert.Equal(["a@example.org", "b@example.org", "c@example.org", "d@example.org"], (await ColumnAsync("SELECT email FROM customers ORDER BY email")).Order(StringComparer.Ordinal));
        Assert.Equal(4, await ScalarAsync("SELECT COUNT(*) FROM customer_events"));
    }

    [Fact]
    public async Task AReadFailureAfterSomeBatchesIsThrownAsItWasAndKeepsTheCommittedBatches()
    {
        var bytes = Encoding.UTF8.GetBytes(Rows(1, 200));

        var thrown = await Assert.ThrowsAsync<IOException>(() =>
            Factory.Services.GetRequiredService<CustomerImporter>().RunAsync(
                CustomerFileReader.ReadAsync(new FailingStream(bytes, bytes.Length / 2), CustomerFileFormat.Csv, default),
                new ImportOptions(BatchSize: 10), new ChangeContext("cli:import", null), _ => { }, _ => { }, TimeProvider.System, default));

        Assert.Equal("The disk went away.", thrown.Message);
        var written = await ScalarAsync("SELECT COUNT(*) FROM customers");
        Assert.InRange(written, 10, 100);
        Assert.Equal(0, written % 10);
        Assert.Equal(written, await ScalarAsync("SELECT COUNT(*) FROM customer_events"));
    }

    /// <summary>A stream whose reads fail once <paramref name="failAt"/> bytes have been read.</summary>
    private sealed class FailingStream(byte[] bytes, int failAt) : Stream
    {
        private readonly MemoryStream _inner = new(bytes);

        public override int Read(byte[] buffer, int offset, int count) =>
            _inner.Position >= failAt ? throw new IOException("The disk went away.") : _inner.Read(buffer, offset, Math.Min(count, failAt - (int)_inner.Position));

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _inner.Position; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Fact]
    public async Task OnConflictUpdateAppliesNameAndPhoneAndLeavesIdenticalRowsUnchanged()
    {
        await ImportAsync("name,email,phone\nAda,ada@example.org,111\nBob,bob@example.org,222\n");

        var summary = await ImportAsync("name,email,phone\nAda Lovelace,ADA@example.org,111\nBob,bob@example.org,222\n", new ImportOptions(ImportConflict.Update));

        Assert.Equal((1L, 1L, 0L), (summary.Updated, summary.Unchanged, summary.Created));
        Assert.Equal(["Ada Lovelace"], await ColumnAsync("SELECT name FROM customers WHERE email = 'ada@example.org'"));
        Assert.Equal(["2"], await ColumnAsync("SELECT version FROM customers WHERE email = 'ada@example.org'"));
        Assert.Equal(["1"], await ColumnAsync("SELECT version FROM customers WHERE email = 'bob@example.org'"));
        Assert.Equal(["name"], await ColumnAsync("SELECT fields FROM customer_events WHERE kind = 'updated'"));
        Assert.Equal(3, await ScalarAsync("SELECT COUNT(*) FROM customer_events"));
    }

    [Fact]
    public async Task OnConflictUpdateWithoutAPhoneColumnKeepsThePhone()
    {
        await ImportAsync("name,email,phone\nAda,ada@example.org,111\n");

        await ImportAsync("name,email\nAda L,ada@example.org\n", new ImportOptions(ImportConflict.Update));

        Assert.Equal(["111"], await ColumnAsync("SELECT phone FROM customers"));
    }

    [Fact]
    public async Task OnConflictFailStopsWritingNothingOfTheFailingBatchAndSaysWhatWasCommitted()
    {
        await ImportAsync("name,email\nTaken,taken@example.org\n");

        var summary = await ImportAsync(
            "name,email\nA,a@example.org\nB,b@example.org\nC,c@example.org\nTAKEN,Taken@example.org\nE,e@example.org\n",
            new ImportOptions(ImportConflict.Fail, BatchSize: 2));

        Assert.Equal(1, summary.ExitCode);
        Assert.Equal(5, summary.StoppedAtLine);
        Assert.Equal(3, summary.CommittedThroughLine);
        Assert.Contains("line 5", summary.ToString(), StringComparison.Ordinal);
        Assert.Contains("through line 3", summary.ToString(), StringComparison.Ordinal);
        Assert.Equal(["a@example.org", "b@example.org", "taken@example.org"], (await ColumnAsync("SELECT email FROM customers ORDER BY email")).Order(StringComparer.Ordinal));
        Assert.Equal(3, await ScalarAsync("SELECT COUNT(*) FROM customer_events"));
    }

    [Fact]
    public async Task AFreeIdAndCreatedAtAreKeptAndAnIdHeldByAnotherCustomerIsRejected()
    {
        var rejected = new List<ImportRejection>();
        var summary = await ImportAsync(
            "id,name,email,created_at\n500,Kept,kept@example.org,2020-01-02T03:04:05.123456Z\n",
            rejected: rejected);
        Assert.Equal(1, summary.Created);
        Assert.Equal(["Kept"], await ColumnAsync("SELECT name FROM customers WHERE id = 500"));
        var read = await GetObjectAsync("/customers/500");
        Assert.Equal(new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddTicks(1234560), DateTime.Parse((string)read["created_at"]!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal));

        var clash = await ImportAsync("id,name,email\nx,Bad id,bad@example.org\n500,Other,other@example.org\n", rejected: rejected);
        var same = await ImportAsync("id,name,email\n500,Kept again,KEPT@example.org\n");

        Assert.Equal((2L, 0L), (clash.Rejected, clash.Created));
        Assert.Equal(3, clash.ExitCode);
        Assert.Equal([new ImportRejection(2, "id", "The id must be a whole number from 1 to 2147483647 (or empty)."), new ImportRejection(3, "id", ImportBatchResult.IdTaken)], rejected);
        Assert.Equal((1L, 0L), (same.Skipped, same.Rejected));
        Assert.Equal(1, await ScalarAsync("SELECT COUNT(*) FROM customers"));
    }

    [Fact]
    public async Task AnIdOfASoftDeletedCustomerIsRejected()
    {
        await ImportAsync("id,name,email\n42,Gone,gone@example.org\n");
        Assert.Equal(System.Net.HttpStatusCode.NoContent, (await Client.DeleteAsync(new Uri("/customers/42", UriKind.Relative))).StatusCode);
        var rejected = new List<ImportRejection>();

        var summary = await ImportAsync("id,name,email\n42,Gone,gone@example.org\n", rejected: rejected);

        Assert.Equal(1, summary.Rejected);
        Assert.Equal("id", Assert.Single(rejected).Field);
        Assert.Equal(1, await ScalarAsync("SELECT COUNT(*) FROM customers"));
    }

    [Fact]
    public async Task ADryRunCountsAgainstTheDatabaseAndWritesNothing()
    {
        await ImportAsync("name,email\nAda,ada@example.org\n");

        var summary = await ImportAsync("name,email\nAda,ada@example.org\nNew,new@example.org\nBad,bad\n", new ImportOptions(DryRun: true));

        Assert.Equal((1L, 1L, 1L), (summary.Created, summary.Skipped, summary.Rejected));
        Assert.Contains("dry run", summary.ToString(), StringComparison.Ordinal);
        Assert.Equal(1, await ScalarAsync("SELECT COUNT(*) FROM customers"));
        Assert.Equal(1, await ScalarAsync("SELECT COUNT(*) FROM customer_events"));
    }

    [Fact]
    public async Task AnExportedNdjsonLineImportsWithItsIdAndTimes()
    {
        var summary = await ImportAsync(
            """{"id":7,"name":"Nd Json","email":"nd@example.org","phone":null,"created_at":"2025-05-05T05:05:05.5Z","updated_at":"2025-06-06T06:06:06Z","version":3}""" + "\n",
            format: CustomerFileFormat.Ndjson);

        Assert.Equal(1, summary.Created);
        Assert.Equal(["Nd Json"], await ColumnAsync("SELECT name FROM customers WHERE id = 7"));
        Assert.Equal(["NULL"], await ColumnAsync("SELECT phone FROM customers WHERE id = 7"));
    }
}

/// <summary>The import contract on SQLite.</summary>
public sealed class SqliteImportTests : ImportContract
{
    protected override Task<Dictionary<string, string?>> NewDatabaseSettingsAsync() => SqliteDatabaseAsync();
}

/// <summary>The import contract on MariaDB.</summary>
[Collection(MariaDbCollection.Name)]
public sealed class MariaDbImportTests(MariaDbFixture mariaDb) : ImportContract
{
    protected override Task<Dictionary<string, string?>> NewDatabaseSettingsAsync() => MariaDbDatabaseAsync(mariaDb, seedSampleData: false);
}

/// <summary>
/// The import contract on MariaDB without <c>INSERT ... RETURNING</c>: the new ids read back by email key inside the
/// transaction, as on MySQL 8 (which has no RETURNING and is not run here).
/// </summary>
[Collection(MariaDbCollection.Name)]
public sealed class MariaDbImportReadBackTests(MariaDbFixture mariaDb) : ImportContract
{
    protected override Task<Dictionary<string, string?>> NewDatabaseSettingsAsync() => MariaDbDatabaseAsync(mariaDb, seedSampleData: false);

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Factory.Services.GetRequiredService<CustomerStore>().InsertReturning = false;
    }
}
