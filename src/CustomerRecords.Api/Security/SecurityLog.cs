namespace CustomerRecords.Api.Security;

/// <summary>Log events of the security module (event ids 7000–7099). No message carries a secret or personal data.</summary>
internal static partial class SecurityLog
{
    [LoggerMessage(7000, LogLevel.Warning, "Authentication is not configured: the API is open to anyone who can reach {Addresses}. This is allowed only on loopback; configure Auth:Jwt:Authority or Auth:ApiKeys before exposing it.")]
    public static partial void RunningOpenOnLoopback(ILogger logger, string addresses);

    [LoggerMessage(7001, LogLevel.Warning, "Authentication is not configured and Auth:AllowAnonymous=true: the API is open to anyone who can reach {Addresses}.")]
    public static partial void RunningOpenOnPurpose(ILogger logger, string addresses);

    [LoggerMessage(7002, LogLevel.Critical, "Refusing to start without authentication on non-loopback address(es) {Addresses}.")]
    public static partial void RefusingToStart(ILogger logger, string addresses);

    [LoggerMessage(7003, LogLevel.Information, "Rejected an unknown or malformed API key.")]
    public static partial void ApiKeyRejected(ILogger logger);

    [LoggerMessage(7004, LogLevel.Warning, "Rate limit exceeded for {Partition}; retry after {RetryAfterSeconds} s.")]
    public static partial void RateLimited(ILogger logger, string partition, int retryAfterSeconds);

    [LoggerMessage(7005, LogLevel.Information, "Bearer token rejected: {Reason}.")]
    public static partial void TokenRejected(ILogger logger, string reason);

    [LoggerMessage(7010, LogLevel.Information, "Fetched AWS credentials from the EC2 instance metadata service (role {Role}); they expire at {Expiration:o}.")]
    public static partial void ImdsCredentialsFetched(ILogger logger, string role, DateTimeOffset expiration);

    [LoggerMessage(7011, LogLevel.Warning, "Could not fetch AWS credentials from the EC2 instance metadata service; using the cached ones until they expire.")]
    public static partial void ImdsRefreshFailed(ILogger logger, Exception exception);

    [LoggerMessage(7012, LogLevel.Debug, "Generated an RDS IAM authentication token for {User} at {Host}:{Port}.")]
    public static partial void RdsTokenGenerated(ILogger logger, string user, string host, int port);

    [LoggerMessage(7013, LogLevel.Error, "Could not generate an RDS IAM authentication token; new database connections will fail until it succeeds.")]
    public static partial void RdsTokenFailed(ILogger logger, Exception exception);

    [LoggerMessage(7014, LogLevel.Warning, "Database:IamAuthentication is enabled: raised SslMode to {SslMode} because IAM tokens are sent in clear text over the TLS connection.")]
    public static partial void SslModeRaised(ILogger logger, string sslMode);
}
