using System.Data.Common;
using CustomerRecords.Api.Customers;
using CustomerRecords.Api.Data;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerRecords.Tests.Customers;

/// <summary>
/// Every list order, first page and deep page alike, live or deleted, is read from an index in order: no sort of
/// the whole table. That is what makes a page deep in a million rows cost what the first page costs. The
/// filters and the exact count seek an index too.
/// </summary>
public abstract class QueryPlanContract : IAsyncLifetime
{
    /// <summary>The rows <see cref="FillAsync"/> writes: updated_at 1 s apart from here, every 10th row deleted.</summary>
    protected static readonly DateTime FillStart = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private CustomerApiFactory _factory = null!;

    protected abstract Task<Dictionary<string, string?>> NewDatabaseSettingsAsync();

    /// <summary>The engine's plan for <paramref name="command"/>, one line per step.</summary>
    protected abstract Task<IReadOnlyList<string>> ExplainAsync(DbConnection connection, DbCommand command);

    /// <summary>True when a plan line says the engine sorts rows itself instead of reading an index in order.</summary>
    protected abstract bool SortsRows(string planLine);

    /// <summary>True when a plan line reads the whole table or a whole index rather than seeking a range or a key of one.</summary>
    protected abstract bool ReadsEverything(string planLine);

    /// <summary>The indexes a live lookup by email may use on this engine.</summary>
    protected abstract string[] LiveEmailIndexes { get; }

    /// <summary>
    /// <paramref name="rows"/> customers with distinct name, email, created_at and updated_at (<see cref="FillStart"/> + i s);
    /// every 10th is soft-deleted; the statistics are refreshed.
    /// </summary>
    protected abstract Task FillAsync(DbConnection connection, int rows);

    public async Task InitializeAsync()
    {
        _factory = new CustomerApiFactory(await NewDatabaseSettingsAsync());
        _factory.CreateClient().Dispose();
    }

    public virtual async Task DisposeAsync() => await _factory.DisposeAsync();

    private async Task<(DbConnection Connection, AppDatabase Database)> FilledAsync()
    {
        var database = _factory.Services.GetRequiredService<AppDatabase>();
        var connection = await database.Reader.OpenConnectionAsync();
        await FillAsync(connection, 2000);
        return (connection, database);
    }

    private static CustomerListQuery Query(string? sort, string? state = null, string? updatedSince = null, string? after = null, string? email = null, string? q = null, string? phone = null)
    {
        Assert.True(CustomerListQuery.TryCreate("50", after, email, q, sort, state, updatedSince, null, phone, out var query, out var errors), string.Join("; ", errors.Keys));
        return query;
    }

    [Theory]
    [InlineData("id", null, null)]
    [InlineData("-id", null, null)]
    [InlineData("name", null, null)]
    [InlineData("-name", null, null)]
    [InlineData("created_at", null, null)]
    [InlineData("-created_at", null, null)]
    [InlineData("updated_at", null, null)]
    [InlineData("-updated_at", null, null)]
    [InlineData(null, null, "2026-01-01T00:10:00Z")]
    [InlineData("-deleted_at", "deleted", null)]
    [InlineData("deleted_at", "deleted", null)]
    public async Task ListPagesAreReadFromAnIndexInOrder(string? sort, string? state, string? updatedSince)
    {
        var (connection, database) = await FilledAsync();
        await using var _ = connection;

        var first = Query(sort, state, updatedSince);
        var cursor = new CustomerCursor(
            first.Sort,
            1500,
            first.Sort is CustomerSort.NameAscending or CustomerSort.NameDescending ? "name 1500" : null,
            CustomerCursor.IsTimeSort(first.Sort) ? FillStart.AddSeconds(1500) : null).Encode();
        var deep = Query(sort, state, updatedSince, after: cursor);

        foreach (var query in new[] { first, deep })
        {
            await using var command = CustomerStore.BuildListCommand(connection, query, database.Dialect);
            var plan = await ExplainAsync(connection, command);
            Assert.NotEmpty(plan);
            Assert.DoesNotContain(plan, SortsRows);
            Assert.Contains("deleted_at IS", command.CommandText, StringComparison.Ordinal);
        }

        // The deep page seeks the index: it does not read every entry up to row 1500.
        await using var deepCommand = CustomerStore.BuildListCommand(connection, deep, database.Dialect);
        Assert.DoesNotContain(await ExplainAsync(connection, deepCommand), ReadsEverything);
    }

    [Theory]
    [InlineData(null, "plan701@example.com", null)]
    [InlineData("deleted", "plan700@example.com", null)]
    [InlineData(null, null, "name 7")]
    [InlineData("deleted", null, "plan7")]
    public async Task FiltersSeekAnIndex(string? state, string? email, string? q)
    {
        var (connection, database) = await FilledAsync();
        await using var _ = connection;

        await using var command = CustomerStore.BuildListCommand(connection, Query(null, state, email: email, q: q), database.Dialect);
        var plan = await ExplainAsync(connection, command);

        Assert.NotEmpty(plan);
        Assert.DoesNotContain(plan, ReadsEverything);
    }

    [Theory]
    [InlineData(null, "+1 (555) 1701", null)]
    [InlineData(null, "1555 17", "name")]
    [InlineData("deleted", "1555170", null)]
    public async Task APhoneSearchSeeksThePhoneKeyIndex(string? state, string phone, string? sort)
    {
        var (connection, database) = await FilledAsync();
        await using var _ = connection;

        await using var command = CustomerStore.BuildListCommand(connection, Query(sort, state, phone: phone), database.Dialect);
        var plan = await ExplainAsync(connection, command);
        await using var count = CustomerStore.BuildCountCommand(connection, Query(sort, state, phone: phone), database.Dialect);
        var countPlan = await ExplainAsync(connection, count);

        Assert.Contains(plan, line => line.Contains("ix_customers_phone_key", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, ReadsEverything);
        Assert.Contains(countPlan, line => line.Contains("ix_customers_phone_key", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ALiveEmailLookupUsesTheLiveEmailIndex()
    {
        var (connection, database) = await FilledAsync();
        await using var _ = connection;

        await using var command = CustomerStore.BuildListCommand(connection, Query(null, email: "plan701@example.com"), database.Dialect);
        var plan = await ExplainAsync(connection, command);

        Assert.Contains(plan, line => LiveEmailIndexes.Any(index => line.Contains(index, StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("deleted", null)]
    [InlineData(null, "2026-01-01T00:30:00Z")]
    public async Task AnExactCountSeeksAnIndex(string? state, string? updatedSince)
    {
        var (connection, database) = await FilledAsync();
        await using var _ = connection;

        await using var command = CustomerStore.BuildCountCommand(connection, Query(null, state, updatedSince), database.Dialect);
        var plan = await ExplainAsync(connection, command);

        Assert.NotEmpty(plan);
        Assert.DoesNotContain(plan, ReadsEverything);
    }
}

public sealed class SqliteQueryPlanTests : QueryPlanContract
{
    private readonly TempDirectory _directory = new();

    protected override Task<Dictionary<string, string?>> NewDatabaseSettingsAsync() =>
        Task.FromResult(CustomerApiFactory.SqliteSettings(_directory.Path));

    protected override async Task<IReadOnlyList<string>> ExplainAsync(DbConnection connection, DbCommand command)
    {
        command.CommandText = "EXPLAIN QUERY PLAN " + command.CommandText;
        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            lines.Add(reader.GetString(3));
        }

        return lines;
    }

    protected override bool SortsRows(string planLine) => planLine.Contains("TEMP B-TREE", StringComparison.Ordinal);

    // "SCAN customers [USING [COVERING] INDEX x]" reads the table or an index from one end; "SEARCH" seeks.
    protected override bool ReadsEverything(string planLine) => planLine.StartsWith("SCAN", StringComparison.Ordinal);

    protected override string[] LiveEmailIndexes => ["ux_customers_live_email", "ix_customers_email_key"];

    protected override async Task FillAsync(DbConnection connection, int rows)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < @rows)
            INSERT INTO customers (name, email, email_key, name_key, phone, created_at, updated_at, deleted_at)
            SELECT 'Name ' || i, 'plan' || i || '@example.com', 'plan' || i || '@example.com', 'name ' || i, '+1 (555) ' || i,
                   strftime('%Y-%m-%d %H:%M:%f', '2026-01-01', '+' || i || ' seconds'),
                   strftime('%Y-%m-%d %H:%M:%f', '2026-01-01', '+' || i || ' seconds'),
                   CASE WHEN i % 10 = 0 THEN strftime('%Y-%m-%d %H:%M:%f', '2026-02-01', '+' || i || ' seconds') END FROM n;
            ANALYZE;
            """;
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@rows";
        parameter.Value = rows;
        command.Parameters.Add(parameter);
        await command.ExecuteNonQueryAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }
}
