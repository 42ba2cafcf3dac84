namespace CustomerRecords.Api.Data;

/// <summary>Log events of database authentication and TLS (event ids 7012–7019). No message carries a secret.</summary>
internal static partial class DataLog
{
    [LoggerMessage(7012, LogLevel.Debug, "Generated an RDS IAM authentication token for {User} at {Host}:{Port}.")]
    public static partial void RdsTokenGenerated(ILogger logger, string user, string host, int port);

    [LoggerMessage(7013, LogLevel.Error, "Could not generate an RDS IAM authentication token; new database connections will fail until it succeeds.")]
    public static partial void RdsTokenFailed(ILogger logger, Exception exception);

    [LoggerMessage(7014, LogLevel.Warning, "Database:IamAuthentication is enabled: raised SslMode to {SslMode} because IAM tokens are sent in clear text over the TLS connection.")]
    public static partial void SslModeRaised(ILogger logger, string sslMode);
}
