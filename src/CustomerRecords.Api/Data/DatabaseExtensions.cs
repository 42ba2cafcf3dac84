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
        builder.Services.AddSingleton<IValidateOptions<DatabaseOptions>, DatabaseOptionsValidator>();
        builder.Services.AddOptions<DatabaseHealthOptions>()
            .BindConfiguration(DatabaseHealthOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<DatabaseState>();
        builder.Services.AddSingleton<IWriteGate, WriteGate>();

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

            var forwarding = WriteForwarding.For(sp.GetRequiredService<IOptions<DatabaseOptions>>().Value, logger);
            var writer = CreateMySql(settings.Writer, WriterPool, sp, loggerFactory, forwarding);
            var reader = settings.Reader is null ? writer : CreateMySql(settings.Reader, ReplicaPool, sp, loggerFactory, forwarding);
            return new AppDatabase(writer, reader, SqlDialect.MySql, () => CreateMySql(settings.Writer, WriterPool, sp, loggerFactory, forwarding));
        });
        builder.Services.AddDatabaseSecurity();
        builder.Services.AddSingleton<ResilientDb>();
        builder.Services.AddSingleton<WriteActivity>();
        builder.Services.AddSingleton<Migrator>();
        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: ["ready"], timeout: DatabaseHealthCheck.Timeout + TimeSpan.FromSeconds(1));
        return builder;
    }

    /// <summary>
    /// Applies migrations before the first request when <c>Database:MigrateOnStartup</c> is on (always with
    /// <paramref name="force"/>: the <c>migrate</c> command), waiting up to <c>Database:StartupTimeout</c> for a database
    /// that does not answer yet. Returns what it did, or null when it did not run.
    /// </summary>
    /// <remarks>
    /// In a read-only region (<c>Database:ReadOnly</c>) nothing is migrated, whatever the settings: the schema version
    /// is checked instead, and a schema older than this build needs (or a write-forwarding connection the server
    /// refuses) stops start-up with one message. The primary region's deployment migrates the global database.
    /// </remarks>
    public static async Task<MigrationResult?> MigrateDatabaseAsync(this WebApplication app, bool force = false, CancellationToken ct = default)
    {
        var options = app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(ct, app.Lifetime.ApplicationStopping);
        if (options.ReadOnly)
        {
            await CheckReadOnlySchemaAsync(app, force, stopping.Token);
            return null;
        }

        if (!force && !options.MigrateOnStartup)
        {
            return null;
        }

        return await app.Services.GetRequiredService<Migrator>().MigrateAsync(stopping.Token);
    }

    private static async Task CheckReadOnlySchemaAsync(WebApplication app, bool force, CancellationToken ct)
    {
        if (force)
        {
            throw new InvalidOperationException(
                "Database:ReadOnly is set: this region's database is a read-only secondary and is not migrated here; run migrate against the primary region.");
        }

        MigrationStatus status;
        try
        {
            status = await app.Services.GetRequiredService<Migrator>().StatusAsync(ct);
        }
        catch (Exception e) when (WriteForwarding.IsUnknownVariable(e) || WriteForwarding.IsUnknownVariable(e.InnerException))
        {
            throw new InvalidOperationException(WriteForwarding.UnknownVariableMessage(app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value), e);
        }

        if (status.Pending.Count > 0)
        {
            throw new InvalidOperationException(
                $"Database:ReadOnly is set and the database's schema is older than this build needs (version {status.Current}, this build needs {status.Latest}): " +
                "migrate the primary region first, then start this region.");
        }
    }

    /// <summary>The schema version and pending migrations, changing nothing (<c>migrate --status</c>).</summary>
    public static Task<MigrationStatus> DatabaseStatusAsync(this WebApplication app, CancellationToken ct = default) =>
        app.Services.GetRequiredService<Migrator>().StatusAsync(ct);

    /// <summary>
    /// A pooled data source named by its role; TLS settings and RDS IAM authentication (if configured) applied.
    /// The name is what MySqlConnector puts in its metrics' <c>pool.name</c> (exported to Prometheus and OTLP)
    /// and its log lines; unnamed, it uses the connection string, which carries the user, database and address.
    /// </summary>
    private static MySqlDataSource CreateMySql(string connectionString, string role, IServiceProvider services, ILoggerFactory loggerFactory, WriteForwarding? forwarding)
    {
        var builder = new MySqlDataSourceBuilder(connectionString).UseName(role).UseLoggerFactory(loggerFactory);
        if (forwarding is not null)
        {
            builder.UseConnectionOpenedCallback(forwarding.OnOpenedAsync);
        }

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

/// <summary>Settings of the <c>Health</c> section: how readiness (<c>/health/ready</c>) judges the database.</summary>
internal sealed class DatabaseHealthOptions
{
    public const string Section = "Health";

    /// <summary>
    /// How long a verdict on the database is trusted: readiness runs its own probe (<c>SELECT 1</c> on the writer)
    /// only when no database operation — a request's, a background job's, or an earlier probe — has answered or
    /// failed within this time. Under traffic readiness never touches the database. 0 = probe on every call.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan DatabaseProbeInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Probe a database nothing else has used for <see cref="DatabaseProbeInterval"/> (the default). Off for an Aurora
    /// Serverless cluster with auto-pause: readiness then never wakes an idle database — it reports the last verdict
    /// (Healthy when the last operation succeeded or there has been none since start-up) — and probes only to find
    /// out whether a database that failed has come back. A broken database still fails readiness as soon as traffic meets it.
    /// </summary>
    public bool ProbeIdleDatabase { get; set; } = true;
}

/// <summary>
/// Ready means the database answered: the latest verdict of real work when it is recent enough
/// (<see cref="DatabaseHealthOptions.DatabaseProbeInterval"/>), else a trivial query on the writer — unless
/// <see cref="DatabaseHealthOptions.ProbeIdleDatabase"/> is off and nothing has failed.
/// </summary>
internal sealed class DatabaseHealthCheck(AppDatabase database, DatabaseState state, IOptions<DatabaseHealthOptions> options) : IHealthCheck
{
    /// <summary>The probe's bound; the driver's own cancellation can block on a hung server, so the wait is bounded here, not by the token alone.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    private const string DidNotAnswer = "The database did not answer.";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var settings = options.Value;
        if (settings.DatabaseProbeInterval > TimeSpan.Zero)
        {
            var latest = state.Latest;
            if (latest is not null && state.Age(latest) < settings.DatabaseProbeInterval)
            {
                return latest.Ok ? HealthCheckResult.Healthy("The database answered recently.") : HealthCheckResult.Unhealthy(DidNotAnswer);
            }

            if (!settings.ProbeIdleDatabase && latest is not { Ok: false })
            {
                // Left alone so that an auto-paused database can stay paused; traffic will tell if it is broken.
                return HealthCheckResult.Healthy("Not probed: no recent database traffic; the last operation succeeded.");
            }
        }

        try
        {
            // An abandoned probe finishes (and returns its connection) when the server answers again.
            await ProbeAsync(cancellationToken).WaitAsync(Timeout, cancellationToken);
            state.Answered();
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is DbException or TimeoutException)
        {
            state.Unavailable();

            // No exception text: health output is public and must not leak hosts or SQL.
            return HealthCheckResult.Unhealthy(DidNotAnswer);
        }
    }

    private async Task ProbeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.Writer.OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand("SELECT 1");
        await command.ExecuteScalarAsync(cancellationToken);
    }
}
