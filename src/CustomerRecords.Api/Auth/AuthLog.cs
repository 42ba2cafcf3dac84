namespace CustomerRecords.Api.Auth;

/// <summary>Log events of authentication and the exposure guard (event ids 7000–7009). No message carries a secret or personal data.</summary>
internal static partial class AuthLog
{
    [LoggerMessage(7000, LogLevel.Warning, "Authentication is not configured: the API is open to anyone who can reach {Addresses}. This is allowed only on loopback; configure Auth:Jwt:Authority or Auth:ApiKeys before exposing it.")]
    public static partial void RunningOpenOnLoopback(ILogger logger, string addresses);

    [LoggerMessage(7001, LogLevel.Warning, "Authentication is not configured and Auth:AllowAnonymous=true: the API is open to anyone who can reach {Addresses}.")]
    public static partial void RunningOpenOnPurpose(ILogger logger, string addresses);

    [LoggerMessage(7002, LogLevel.Critical, "Refusing to start without authentication on non-loopback address(es) {Addresses}.")]
    public static partial void RefusingToStart(ILogger logger, string addresses);

    [LoggerMessage(7003, LogLevel.Information, "Rejected an unknown or malformed API key.")]
    public static partial void ApiKeyRejected(ILogger logger);

    [LoggerMessage(7005, LogLevel.Information, "Bearer token rejected: {Reason}.")]
    public static partial void TokenRejected(ILogger logger, string reason);
}
