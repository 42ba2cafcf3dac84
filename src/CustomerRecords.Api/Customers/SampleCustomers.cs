using System.Data.Common;
using CustomerRecords.Api.Data;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Api.Customers;

/// <summary>
/// The original app's three sample customers, inserted when this start created the schema and
/// <c>Database:SeedSampleData</c> says so (unset: on SQLite or in Development only).
/// </summary>
internal sealed partial class SampleCustomers(
    CustomerStore store,
    AppDatabase database,
    IOptions<DatabaseOptions> options,
    IHostEnvironment environment,
    ILogger<SampleCustomers> logger) : IAfterMigration
{
    private static readonly (string Name, string Email, string Phone)[] Samples =
    [
        ("John Doe", "john.doe@example.com", "+1-555-0123"),
        ("Jane Smith", "jane.smith@example.com", "+1-555-0456"),
        ("Bob Johnson", "bob.johnson@example.com", "+1-555-0789"),
    ];

    public async Task RunAsync(DbConnection connection, DbTransaction? transaction, IReadOnlyList<int> applied, CancellationToken ct)
    {
        // The first migration creates the table: this start made a new database, so it gets the samples.
        var wanted = options.Value.SeedSampleData ?? (database.Dialect == SqlDialect.Sqlite || environment.IsDevelopment());
        if (!applied.Contains(1) || !wanted)
        {
            return;
        }

        // Each sample gets its history event like any other create (MySQL runs migrations outside a transaction).
        var now = store.Now();
        await using var own = transaction is null ? await connection.BeginTransactionAsync(ct) : null;
        foreach (var (name, email, phone) in Samples)
        {
            await store.InsertAsync(connection, (transaction ?? own)!, new CustomerChange(name, email, SetPhone: true, phone), now, ChangeContext.System, ct);
        }

        if (own is not null)
        {
            await own.CommitAsync(ct);
        }

        LogSeeded(logger, Samples.Length);
    }

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "New database: inserted {Count} sample customers")]
    private static partial void LogSeeded(ILogger logger, int count);
}
