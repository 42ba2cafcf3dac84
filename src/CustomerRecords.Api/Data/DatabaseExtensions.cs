using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace CustomerRecords.Api.Data;

internal static partial class DatabaseExtensions
{
    /// <summary>Pool name of the writer endpoint's data source (also after a failover replaced it).</summary>
    internal const string WriterPool = "writer";

    /// <summary>Pool name of the read replica's data source.</summary>
    internal const string ReplicaPool = "replica";

    public static WebApplicationBuilder AddDatabase(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<DatabaseOptions>()
            .BindConfiguration(DatabaseOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);

        // Resolved lazily so that settings added by tests or hosting layers after this call still count.
        builder.Services.AddSingleton(sp =>
        {
            var settings = ConnectionSettings.Resolve(
                sp.GetRequiredService<IConfiguration>(),
                sp.GetRequiredService<IOptions<DatabaseOptions>>().Value,
                sp.GetRequiredService<IHostEnvironment>().ContentRootPath);
            var loggerFactory = sp.GetRequiredService<ILoggerFactory>();
            var logger = loggerFactory.CreateLogger("CustomerRecords.Api.Data");
            LogDatabase(logger, settings.Description);
            if (settings.Provider != "mysql")
            {
                return CreateSqlite(settings.Writer);
            }

            var writer = CreateMySql(settings.Writer, WriterPool, sp, loggerFactory);
            var reader = settings.Reader is null ? writer : CreateMySql(settings.Reader, ReplicaPool, sp, loggerFactory);
            return new AppDatabase(writer, reader, SqlDialect.MySql, () => CreateMySql(settings.Writer, WriterPool, sp, loggerFactory));
        });
        builder.Services.AddDatabaseSecurity();
        builder.Services.AddSingleton<ResilientDb>();
        builder.Services.AddSingleton<Migrator>();
        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: ["ready"], timeout: DatabaseHealthCheck.Timeout + TimeSpan.FromSeconds(1));
        return builder;
    }

    /// <summary>
    /// Applies migrations before the first request when <c>Database:MigrateOnStartup</c> is on (always with
    /// <paramref name="force"/>: the <c>migrate</c> command), waiting up to <c>Database:StartupTimeout</c> for a database
    /// that does not answer yet. Returns what it did, or null when it did not run.
    /// </summary>
    public static async Task<MigrationResult?> MigrateDatabaseAsync(this WebApplication app, bool force = false, CancellationToken ct = default)
    {
        if (!force && !app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value.MigrateOnStartup)
        {
            return null;
        }

        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(ct, app.Lifetime.ApplicationStopping);
        return await app.Services.GetRequiredService<Migrator>().MigrateAsync(stopping.Token);
    }

    /// <summary>The schema version and pending migrations, changing nothing (<c>migrate --status</c>).</summary>
    public static Task<MigrationStatus> DatabaseStatusAsync(this WebApplication app, CancellationToken ct = default) =>
        app.Services.GetRequiredService<Migrator>().StatusAsync(ct);

    /// <summary>
    /// A pooled data source named by its role; TLS settings and RDS IAM authentication (if configured) applied.
    /// The name is what MySqlConnector puts in its metrics' <c>pool.name</c> (exported to Prometheus and OTLP)
    /// and its log lines; unnamed, it uses the connection string, which carries the user, database and address.
    /// </summary>
    private static MySqlDataSource CreateMySql(string connectionString, string role, IServiceProvider services, ILoggerFactory loggerFactory)
    {
        var builder = new MySqlDataSourceBuilder(connectionString).UseName(role).UseLoggerFactory(loggerFactory);
        return DatabaseSecurity.ConfigureMySql(builder, services).Build();
    }

    private static AppDatabase CreateSqlite(string connectionString)
    {
        var source = SqliteFactory.Instance.CreateDataSource(connectionString);
        return new AppDatabase(source, source, SqlDialect.Sqlite);
    }

    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Customers database: {Description}")]
    private static partial void LogDatabase(ILogger logger, string description);
}

/// <summary>Ready means the writer answers a trivial query.</summary>
internal sealed class DatabaseHealthCheck(AppDatabase database) : IHealthCheck
{
    /// <summary>The probe's bound; the driver's own cancellation can block on a hung server, so the wait is bounded here, not by the token alone.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            // An abandoned probe finishes (and returns its connection) when the server answers again.
            await ProbeAsync(cancellationToken).WaitAsync(Timeout, cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is DbException or TimeoutException)
        {
            // No exception text: health output is public and must not leak hosts or SQL.
            return HealthCheckResult.Unhealthy("The database did not answer.");
        }
    }

    private async Task ProbeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.Writer.OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand("SELECT 1");
        await command.ExecuteScalarAsync(cancellationToken);
    }
}
