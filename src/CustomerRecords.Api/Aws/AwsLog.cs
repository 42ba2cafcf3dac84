namespace CustomerRecords.Api.Aws;

/// <summary>Log events of AWS credential handling (event ids 7010–7011). No message carries a secret.</summary>
internal static partial class AwsLog
{
    [LoggerMessage(7010, LogLevel.Information, "Fetched AWS credentials from the EC2 instance metadata service (role {Role}); they expire at {Expiration:o}.")]
    public static partial void ImdsCredentialsFetched(ILogger logger, string role, DateTimeOffset expiration);

    [LoggerMessage(7011, LogLevel.Warning, "Could not fetch AWS credentials from the EC2 instance metadata service; using the cached ones until they expire.")]
    public static partial void ImdsRefreshFailed(ILogger logger, Exception exception);
}
