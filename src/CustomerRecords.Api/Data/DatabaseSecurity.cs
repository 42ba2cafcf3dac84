using Microsoft.Extensions.Options;
using CustomerRecords.Api.Aws;
using MySqlConnector;

namespace CustomerRecords.Api.Data;

/// <summary>RDS IAM database authentication (section <c>Database:IamAuthentication</c>).</summary>
public sealed class IamAuthenticationOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Database:IamAuthentication";

    /// <summary>Authenticate with short-lived IAM tokens instead of a password. Default false.</summary>
    public bool Enabled { get; set; }

    /// <summary>AWS region of the database, e.g. <c>eu-west-1</c>. Default: <c>AWS_REGION</c>, then <c>AWS_DEFAULT_REGION</c>.</summary>
    public string? Region { get; set; }

    /// <summary>Host the token is signed for. Default: the connection string's (first) server.</summary>
    public string? Host { get; set; }

    /// <summary>Port the token is signed for. Default: the connection string's port.</summary>
    public int? Port { get; set; }

    /// <summary>Database user the token is for (created with <c>IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'</c>). Default: the connection string's user.</summary>
    public string? User { get; set; }

    /// <summary>How long a token is reused before a new one is made; below the 15-minute token lifetime. Default 10 minutes.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Retry delay after a failed token generation. Default 15 seconds.</summary>
    public TimeSpan FailureRetryInterval { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary>TLS to MySQL/MariaDB (section <c>Database:Tls</c>); overrides the connection string's settings when set.</summary>
public sealed class DatabaseTlsOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Database:Tls";

    /// <summary>
    /// <c>None</c>, <c>Preferred</c>, <c>Required</c>, <c>VerifyCA</c> or <c>VerifyFull</c> (checks CA and host name; use it for RDS).
    /// Default: the connection string's, or <c>VerifyFull</c> when <see cref="CaCertificateFile"/> is set.
    /// </summary>
    public MySqlSslMode? SslMode { get; set; }

    /// <summary>PEM file of the CA(s) to trust, e.g. the RDS bundle <c>/etc/ssl/certs/rds-global-bundle.pem</c>.</summary>
    public string? CaCertificateFile { get; set; }
}

internal sealed class DatabaseSecurityOptionsValidator : IValidateOptions<IamAuthenticationOptions>, IValidateOptions<DatabaseTlsOptions>
{
    public ValidateOptionsResult Validate(string? name, IamAuthenticationOptions options)
    {
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        var failures = new List<string>();
        if (DatabaseSecurity.ResolveRegion(options, Environment.GetEnvironmentVariable) is null)
        {
            failures.Add("Database:IamAuthentication:Region is required when Database:IamAuthentication:Enabled=true (or set AWS_REGION).");
        }

        if (options.Port is < 1 or > 65535)
        {
            failures.Add("Database:IamAuthentication:Port must be between 1 and 65535.");
        }

        if (options.RefreshInterval <= TimeSpan.Zero || options.RefreshInterval >= RdsAuthToken.Lifetime)
        {
            failures.Add("Database:IamAuthentication:RefreshInterval must be positive and shorter than the 15-minute token lifetime.");
        }

        if (options.FailureRetryInterval <= TimeSpan.Zero)
        {
            failures.Add("Database:IamAuthentication:FailureRetryInterval must be positive.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    public ValidateOptionsResult Validate(string? name, DatabaseTlsOptions options) =>
        !string.IsNullOrEmpty(options.CaCertificateFile) && !File.Exists(options.CaCertificateFile)
            ? ValidateOptionsResult.Fail("Database:Tls:CaCertificateFile names a file that does not exist.")
            : ValidateOptionsResult.Success;
}

/// <summary>TLS and RDS IAM authentication for MySqlConnector data sources.</summary>
public static class DatabaseSecurity
{
    /// <summary>Registers <see cref="IamAuthenticationOptions"/>, <see cref="DatabaseTlsOptions"/> and the AWS credential provider. Called by AddDatabase.</summary>
    public static IServiceCollection AddDatabaseSecurity(this IServiceCollection services)
    {
        services.AddOptions<IamAuthenticationOptions>().BindConfiguration(IamAuthenticationOptions.Section).ValidateOnStart();
        services.AddOptions<DatabaseTlsOptions>().BindConfiguration(DatabaseTlsOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<IamAuthenticationOptions>, DatabaseSecurityOptionsValidator>();
        services.AddSingleton<IValidateOptions<DatabaseTlsOptions>, DatabaseSecurityOptionsValidator>();
        services.AddSingleton(sp => new AwsCredentialsProvider(
            AwsCredentialsProvider.CreateImdsHandler(), time: sp.GetService<TimeProvider>(),
            logger: sp.GetRequiredService<ILoggerFactory>().CreateLogger<AwsCredentialsProvider>()));
        return services;
    }

    /// <summary>Applies <c>Database:Tls</c> and <c>Database:IamAuthentication</c> from the container to <paramref name="builder"/>.</summary>
    public static MySqlDataSourceBuilder ConfigureMySql(MySqlDataSourceBuilder builder, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return ConfigureMySql(
            builder,
            services.GetRequiredService<IOptions<IamAuthenticationOptions>>().Value,
            services.GetRequiredService<IOptions<DatabaseTlsOptions>>().Value,
            services.GetRequiredService<AwsCredentialsProvider>(),
            services.GetService<TimeProvider>(),
            services.GetRequiredService<ILoggerFactory>());
    }

    /// <summary>
    /// Applies TLS settings and, when enabled, IAM authentication: the password becomes an RDS token made from
    /// the environment's AWS credentials by MySqlConnector's periodic password provider (refreshed every
    /// <see cref="IamAuthenticationOptions.RefreshInterval"/>, so pooling keeps working), and TLS is required
    /// because RDS receives the token through the clear-text password plugin.
    /// </summary>
    public static MySqlDataSourceBuilder ConfigureMySql(
        MySqlDataSourceBuilder builder, IamAuthenticationOptions options, DatabaseTlsOptions? tls = null,
        AwsCredentialsProvider? credentials = null, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        var settings = builder.ConnectionStringBuilder;
        var logger = (ILogger?)loggerFactory?.CreateLogger(typeof(DatabaseSecurity).FullName!) ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

        if (tls is not null)
        {
            if (!string.IsNullOrEmpty(tls.CaCertificateFile))
            {
                settings.SslCa = tls.CaCertificateFile;
                settings.SslMode = tls.SslMode ?? MySqlSslMode.VerifyFull;
            }
            else if (tls.SslMode is { } mode)
            {
                settings.SslMode = mode;
            }
        }

        if (!options.Enabled)
        {
            return builder;
        }

        if (settings.SslMode is MySqlSslMode.None or MySqlSslMode.Disabled)
        {
            throw new InvalidOperationException(
                "Database:IamAuthentication requires TLS, but SslMode is None: set Database:Tls:SslMode to VerifyFull (with Database:Tls:CaCertificateFile) or Required.");
        }

        if (settings.SslMode == MySqlSslMode.Preferred)
        {
            settings.SslMode = MySqlSslMode.Required;
            DataLog.SslModeRaised(logger, nameof(MySqlSslMode.Required));
        }

        var region = ResolveRegion(options, Environment.GetEnvironmentVariable)
            ?? throw new InvalidOperationException("Database:IamAuthentication:Region is required (or set AWS_REGION).");
        var host = options.Host ?? settings.Server.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        if (string.IsNullOrEmpty(host))
        {
            throw new InvalidOperationException("Database:IamAuthentication needs a host: set Server in the connection string or Database:IamAuthentication:Host.");
        }

        var port = options.Port ?? (int)settings.Port;
        var user = options.User ?? settings.UserID;
        if (string.IsNullOrEmpty(user))
        {
            throw new InvalidOperationException("Database:IamAuthentication needs a user: set User ID in the connection string or Database:IamAuthentication:User.");
        }

        // A configured password would take precedence over the provider.
        settings.Password = "";
        settings.UserID = user;
        var time = timeProvider ?? TimeProvider.System;
        var provider = credentials ?? new AwsCredentialsProvider(AwsCredentialsProvider.CreateImdsHandler(), time: time, logger: logger);
        builder.UsePeriodicPasswordProvider(
            async (_, cancellationToken) =>
            {
                try
                {
                    var current = await provider.GetCredentialsAsync(cancellationToken);
                    var token = RdsAuthToken.Generate(host, port, user, region, current, time.GetUtcNow());
                    DataLog.RdsTokenGenerated(logger, user, host, port);
                    return token;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    DataLog.RdsTokenFailed(logger, e);
                    throw;
                }
            },
            options.RefreshInterval,
            options.FailureRetryInterval);
        return builder;
    }

    internal static string? ResolveRegion(IamAuthenticationOptions options, Func<string, string?> environment) =>
        new[] { options.Region, environment("AWS_REGION"), environment("AWS_DEFAULT_REGION") }.FirstOrDefault(r => !string.IsNullOrWhiteSpace(r));
}
