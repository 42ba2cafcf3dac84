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
    protected override async Task<Dictionary<string, string?>> NewDatabaseSettingsAsync()
    {
        var settings = CustomerApiFactory.MySqlSettings(await mariaDb.CreateDatabaseAsync());
        settings["Database:SeedSampleData"] = "true";
        return settings;
    }
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
            lines.Add($"key={key}; {extra}");
        }

        return lines;
    }

    protected override bool SortsRows(string planLine) =>
        planLine.Contains("filesort", StringComparison.OrdinalIgnoreCase) || planLine.Contains("(no index)", StringComparison.Ordinal);

    protected override async Task FillAsync(DbConnection connection, int rows)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SET SESSION max_recursive_iterations = 1000000;
            INSERT INTO customers (name, email, email_key, name_key, created_at, updated_at)
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < @rows)
            SELECT CONCAT('Name ', i), CONCAT('plan', i, '@example.com'), CONCAT('plan', i, '@example.com'), CONCAT('name ', i),
                   UTC_TIMESTAMP(6), UTC_TIMESTAMP(6) FROM n;
            ANALYZE TABLE customers;
            """;
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@rows";
        parameter.Value = rows;
        command.Parameters.Add(parameter);
        await command.ExecuteNonQueryAsync();
    }
}
