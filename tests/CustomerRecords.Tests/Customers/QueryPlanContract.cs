using System.Data.Common;
using CustomerRecords.Api.Customers;
using CustomerRecords.Api.Data;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerRecords.Tests.Customers;

/// <summary>
/// Every list order, first page and deep page alike, is read from an index in order: no sort of the
/// whole table. That is what makes a page deep in a million rows cost what the first page costs.
/// </summary>
public abstract class QueryPlanContract : IAsyncLifetime
{
    private CustomerApiFactory _factory = null!;

    protected abstract Task<Dictionary<string, string?>> NewDatabaseSettingsAsync();

    /// <summary>The engine's plan for <paramref name="command"/>, one line per step.</summary>
    protected abstract Task<IReadOnlyList<string>> ExplainAsync(DbConnection connection, DbCommand command);

    /// <summary>True when a plan line says the engine sorts rows itself instead of reading an index in order.</summary>
    protected abstract bool SortsRows(string planLine);

    protected abstract Task FillAsync(DbConnection connection, int rows);

    public async Task InitializeAsync()
    {
        _factory = new CustomerApiFactory(await NewDatabaseSettingsAsync());
        _factory.CreateClient().Dispose();
    }

    public virtual async Task DisposeAsync() => await _factory.DisposeAsync();

    [Theory]
    [InlineData("id")]
    [InlineData("-id")]
    [InlineData("name")]
    [InlineData("-name")]
    [InlineData("created_at")]
    [InlineData("-created_at")]
    public async Task ListPagesAreReadFromAnIndexInOrder(string sort)
    {
        var database = _factory.Services.GetRequiredService<AppDatabase>();
        await using var connection = await database.Reader.OpenConnectionAsync();
        await FillAsync(connection, 2000);

        Assert.True(CustomerListQuery.TryCreate("50", null, null, null, sort, out var first, out _));
        var last = new Customer(1500, "m", "m@example.com", null, new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc), DateTime.UtcNow, 1);
        var cursor = CustomerCursor.After(first.Sort, last).Encode();
        Assert.True(CustomerListQuery.TryCreate("50", cursor, null, null, sort, out var deep, out _));

        foreach (var query in new[] { first, deep })
        {
            await using var command = CustomerStore.BuildListCommand(connection, query, database.Dialect);
            var plan = await ExplainAsync(connection, command);
            Assert.NotEmpty(plan);
            Assert.DoesNotContain(plan, SortsRows);
        }
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

    protected override async Task FillAsync(DbConnection connection, int rows)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < @rows)
            INSERT INTO customers (name, email, email_key, name_key, created_at, updated_at)
            SELECT 'Name ' || i, 'plan' || i || '@example.com', 'plan' || i || '@example.com', 'name ' || i,
                   strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now') FROM n;
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
