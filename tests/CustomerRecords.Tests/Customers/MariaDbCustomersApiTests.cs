using System.Data.Common;
using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.Customers;

/// <summary>
/// The API contract over a real MariaDB server: a fresh database per test, with the sample customers the
/// contract starts from (MySQL gets none by default; see SampleCustomersTests).
/// </summary>
[Collection(MariaDbCollection.Name)]
public sealed class MariaDbCustomersApiTests(MariaDbFixture mariaDb) : CustomersApiContract
{
    protected override Task<Dictionary<string, string?>> NewDatabaseSettingsAsync() => MariaDbDatabaseAsync(mariaDb, seedSampleData: true);
}

/// <summary>List pages read an index in order on MariaDB too (no filesort).</summary>
[Collection(MariaDbCollection.Name)]
public sealed class MariaDbQueryPlanTests(MariaDbFixture mariaDb) : QueryPlanContract
{
    protected override async Task<Dictionary<string, string?>> NewDatabaseSettingsAsync() =>
        CustomerApiFactory.MySqlSettings(await mariaDb.CreateDatabaseAsync());

    protected override async Task<IReadOnlyList<string>> ExplainAsync(DbConnection connection, DbCommand command)
    {
        command.CommandText = "EXPLAIN " + command.CommandText;
        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var extra = reader["Extra"] as string ?? string.Empty;
            var key = reader["key"] as string ?? "(no index)";
            var type = reader["type"] as string ?? string.Empty;
            lines.Add($"type={type}; key={key}; {extra}");
        }

        return lines;
    }

    protected override bool SortsRows(string planLine) =>
        planLine.Contains("filesort", StringComparison.OrdinalIgnoreCase) || planLine.Contains("(no index)", StringComparison.Ordinal);

    // type=ALL is a table scan, type=index a walk of a whole index; const/ref/range/index_merge seek.
    protected override bool ReadsEverything(string planLine) =>
        planLine.StartsWith("type=ALL;", StringComparison.Ordinal) || planLine.StartsWith("type=index;", StringComparison.Ordinal)
        || planLine.Contains("(no index)", StringComparison.Ordinal);

    protected override string[] LiveEmailIndexes => ["ux_customers_live_email"];

    protected override async Task FillAsync(DbConnection connection, int rows)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SET SESSION max_recursive_iterations = 1000000;
            INSERT INTO customers (name, email, email_key, name_key, phone, created_at, updated_at, deleted_at)
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < @rows)
            SELECT CONCAT('Name ', i), CONCAT('plan', i, '@example.com'), CONCAT('plan', i, '@example.com'), CONCAT('name ', i), CONCAT('+1 (555) ', i),
                   TIMESTAMP('2026-01-01') + INTERVAL i SECOND, TIMESTAMP('2026-01-01') + INTERVAL i SECOND,
                   CASE WHEN i % 10 = 0 THEN TIMESTAMP('2026-02-01') + INTERVAL i SECOND END FROM n;
            ANALYZE TABLE customers;
            """;
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@rows";
        parameter.Value = rows;
        command.Parameters.Add(parameter);
        await command.ExecuteNonQueryAsync();
    }
}
