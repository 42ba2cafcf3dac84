using Microsoft.Data.Sqlite;
using MySqlConnector;

namespace CustomerRecords.Api.Data;

/// <summary>
/// Works out which engine and connection string to use from <c>Database:Provider</c>,
/// <c>ConnectionStrings:Customers</c> and the original app's <c>DB_*</c> variables.
/// Error messages name the setting at fault and never echo a connection string.
/// </summary>
internal static class ConnectionSettings
{
    public const string ConnectionStringName = "Customers";
    public const string DefaultSqlitePath = "data/customers.db";

    public sealed record Resolved(string Provider, string Writer, string? Reader, string Description);

    public static Resolved Resolve(IConfiguration configuration, DatabaseOptions options, string contentRoot)
    {
        var dbHost = configuration["DB_HOST"];
        var provider = string.IsNullOrWhiteSpace(dbHost) ? options.Provider.Trim().ToLowerInvariant() : "mysql";
        var configured = configuration.GetConnectionString(ConnectionStringName);
        var readOnly = configuration.GetConnectionString(ConnectionStringName + "ReadOnly");

        switch (provider)
        {
            case "mysql":
                MySqlConnectionStringBuilder writer;
                try
                {
                    writer = new MySqlConnectionStringBuilder(configured ?? string.Empty);
                }
                catch (ArgumentException)
                {
                    throw new InvalidOperationException(
                        "ConnectionStrings:Customers is not a valid MySQL connection string (Server=...;Database=...;User ID=...).");
                }

                if (!string.IsNullOrWhiteSpace(dbHost))
                {
                    ApplyDbVariables(writer, configuration);
                }

                if (string.IsNullOrWhiteSpace(writer.Server))
                {
                    throw new InvalidOperationException(
                        "Database:Provider is 'mysql' but no server is set: set ConnectionStrings:Customers or the DB_HOST, DB_NAME, DB_USER, DB_PASSWORD variables.");
                }

                if (string.IsNullOrWhiteSpace(writer.Database))
                {
                    throw new InvalidOperationException("No MySQL database name is set: add Database=... to ConnectionStrings:Customers or set DB_NAME.");
                }

                ApplyPoolDefaults(writer);
                string? reader = null;
                if (!string.IsNullOrWhiteSpace(readOnly))
                {
                    try
                    {
                        var replica = new MySqlConnectionStringBuilder(readOnly);

                        // The replica signs in as the writer does unless its string says otherwise.
                        if (string.IsNullOrEmpty(replica.UserID))
                        {
                            replica.UserID = writer.UserID;
                            replica.Password = writer.Password;
                        }

                        if (string.IsNullOrEmpty(replica.Database))
                        {
                            replica.Database = writer.Database;
                        }

                        ApplyPoolDefaults(replica);
                        reader = replica.ConnectionString;
                    }
                    catch (ArgumentException)
                    {
                        throw new InvalidOperationException("ConnectionStrings:CustomersReadOnly is not a valid MySQL connection string.");
                    }
                }

                return new Resolved("mysql", writer.ConnectionString, reader, $"MySQL database '{writer.Database}' on {writer.Server}");

            case "sqlite":
                SqliteConnectionStringBuilder sqlite;
                try
                {
                    sqlite = new SqliteConnectionStringBuilder(configured ?? $"Data Source={DefaultSqlitePath}");
                }
                catch (ArgumentException)
                {
                    throw new InvalidOperationException("ConnectionStrings:Customers is not a valid SQLite connection string (Data Source=path/to/file.db).");
                }

                if (string.IsNullOrWhiteSpace(sqlite.DataSource))
                {
                    throw new InvalidOperationException("ConnectionStrings:Customers needs a Data Source (a file path) for SQLite.");
                }

                if (sqlite.DataSource != ":memory:" && sqlite.Mode != SqliteOpenMode.Memory)
                {
                    var path = Path.GetFullPath(sqlite.DataSource, contentRoot);
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    sqlite.DataSource = path;
                }

                // Writers wait for the file lock instead of failing at once when another write is in progress.
                if (sqlite.DefaultTimeout <= 0)
                {
                    sqlite.DefaultTimeout = 30;
                }

                return new Resolved("sqlite", sqlite.ConnectionString, null, $"SQLite file {sqlite.DataSource}");

            default:
                throw new InvalidOperationException(
                    $"Database:Provider must be 'sqlite' or 'mysql' (it is '{options.Provider}').");
        }
    }

    /// <summary>
    /// Pool and timeout defaults for a cloud database, each applied only when the connection string
    /// leaves it unset: bounded waits (fail fast with 503 rather than hang), and a bounded connection
    /// lifetime plus DNS re-checks so pools move off a demoted writer after a failover.
    /// </summary>
    internal static void ApplyPoolDefaults(MySqlConnectionStringBuilder builder)
    {
        SetDefault(builder, "Connection Timeout", 3u, (b, v) => b.ConnectionTimeout = v);
        SetDefault(builder, "Default Command Timeout", 5u, (b, v) => b.DefaultCommandTimeout = v);
        SetDefault(builder, "Connection Lifetime", 300u, (b, v) => b.ConnectionLifeTime = v);
        SetDefault(builder, "Connection Idle Timeout", 60u, (b, v) => b.ConnectionIdleTimeout = v);
        SetDefault(builder, "Maximum Pool Size", 100u, (b, v) => b.MaximumPoolSize = v);
        SetDefault(builder, "DNS Check Interval", 30u, (b, v) => b.DnsCheckInterval = v);
        SetDefault(builder, "Cancellation Timeout", 2u, (b, v) => b.CancellationTimeout = (int)v);
    }

    private static void SetDefault(MySqlConnectionStringBuilder builder, string keyword, uint value, Action<MySqlConnectionStringBuilder, uint> set)
    {
        if (!builder.ContainsKey(keyword))
        {
            set(builder, value);
        }
    }

    /// <summary>The original app's variables, on top of whatever ConnectionStrings:Customers already says.</summary>
    private static void ApplyDbVariables(MySqlConnectionStringBuilder builder, IConfiguration configuration)
    {
        builder.Server = configuration["DB_HOST"];
        if (configuration["DB_PORT"] is { Length: > 0 } port)
        {
            if (!uint.TryParse(port, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number) || number is 0 or > 65535)
            {
                throw new InvalidOperationException("DB_PORT must be a port number from 1 to 65535.");
            }

            builder.Port = number;
        }

        if (configuration["DB_NAME"] is { Length: > 0 } name)
        {
            builder.Database = name;
        }

        if (configuration["DB_USER"] is { Length: > 0 } user)
        {
            builder.UserID = user;
        }

        if (configuration["DB_PASSWORD"] is { } password)
        {
            builder.Password = password;
        }
    }
}
