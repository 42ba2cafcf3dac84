using System.Data.Common;
using MySqlConnector;

namespace CustomerRecords.Api.Data;

/// <summary>
/// Aurora write forwarding (<c>Database:WriteForwarding</c>): every new or reset connection first sets
/// <c>aurora_replica_read_consistency</c>, which a secondary cluster needs before it forwards a write to the
/// primary region (a reset clears session variables, so a pooled connection that was reset sets it again).
/// A server without the variable (not an Aurora MySQL 3 secondary with write forwarding on) refuses the
/// statement; start-up reports that in one message, and each refused open is logged by its error number only.
/// </summary>
internal sealed partial class WriteForwarding
{
    /// <summary>ER_UNKNOWN_SYSTEM_VARIABLE.</summary>
    private const int UnknownSystemVariable = 1193;

    private readonly string _statement;
    private readonly ILogger _logger;

    private WriteForwarding(DatabaseOptions options, ILogger logger)
    {
        // The value was validated against a fixed list; the variable name is ours.
        _statement = $"SET {(options.ReadConsistencyVariable.StartsWith('@') ? string.Empty : "SESSION ")}{options.ReadConsistencyVariable} = '{options.WriteForwarding.Trim().ToUpperInvariant()}'";
        _logger = logger;
    }

    /// <summary>The connection hook for <paramref name="options"/>, or null when write forwarding is off.</summary>
    public static WriteForwarding? For(DatabaseOptions options, ILogger logger) =>
        options.ForwardsWrites ? new WriteForwarding(options, logger) : null;

    public async ValueTask OnOpenedAsync(MySqlConnectionOpenedContext context, CancellationToken ct)
    {
        if ((context.Conditions & (MySqlConnectionOpenedConditions.New | MySqlConnectionOpenedConditions.Reset)) == 0)
        {
            return;
        }

        try
        {
            await using var command = new MySqlCommand(_statement, context.Connection);
            await command.ExecuteNonQueryAsync(ct);
        }
        catch (MySqlException e)
        {
            LogRefused(_logger, e.Number);
            throw;
        }
    }

    public static bool IsUnknownVariable(Exception? e) => e is MySqlException { Number: UnknownSystemVariable };

    public static string UnknownVariableMessage(DatabaseOptions options) =>
        $"Database:WriteForwarding is '{options.WriteForwarding}' but the database does not know {options.ReadConsistencyVariable}: " +
        "write forwarding needs an Aurora MySQL 3 secondary cluster with write forwarding enabled (EnableGlobalWriteForwarding). " +
        "Unset Database:WriteForwarding to serve this region read-only.";

    [LoggerMessage(EventId = 1010, Level = LogLevel.Error, Message = "Setting the write-forwarding read consistency on a new connection failed (MySQL error {ErrorNumber}); the connection is not used")]
    private static partial void LogRefused(ILogger logger, int errorNumber);
}

/// <summary>Rules across settings that data annotations cannot express.</summary>
internal sealed class DatabaseOptionsValidator(IConfiguration configuration) : Microsoft.Extensions.Options.IValidateOptions<DatabaseOptions>
{
    public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, DatabaseOptions options)
    {
        var failures = new List<string>();

        // Read here, not through the Hosting folder's options: the data tier must not depend on it.
        var requestTimeout = configuration.GetValue("Limits:RequestTimeout", TimeSpan.FromSeconds(30));
        if (requestTimeout > TimeSpan.Zero && options.ResumeTimeout >= requestTimeout)
        {
            failures.Add(
                $"Database:ResumeTimeout ({options.ResumeTimeout:c}) must be shorter than Limits:RequestTimeout ({requestTimeout:c}), " +
                "or a request waiting for a resuming database is cut off with 504 instead of answered 503 + Retry-After.");
        }

        var provider = string.IsNullOrWhiteSpace(configuration["DB_HOST"]) ? options.Provider.Trim() : "mysql";
        if (options.ForwardsWrites && !string.Equals(provider, "mysql", StringComparison.OrdinalIgnoreCase))
        {
            failures.Add("Database:WriteForwarding needs Database:Provider 'mysql' (Aurora MySQL).");
        }

        return failures.Count == 0 ? Microsoft.Extensions.Options.ValidateOptionsResult.Success : Microsoft.Extensions.Options.ValidateOptionsResult.Fail(failures);
    }
}
