namespace CustomerRecords.Api.Admin;

/// <summary>Log events of the admin page's server side (event ids 7100–7109). No message carries a secret or personal data.</summary>
internal static partial class AdminLog
{
    [LoggerMessage(7100, LogLevel.Warning, "The admin page cannot offer OIDC sign-in: the discovery document of Auth:Jwt:Authority could not be read or lacks {Missing} ({Reason}).")]
    public static partial void DiscoveryFailed(ILogger logger, string missing, string reason);
}
