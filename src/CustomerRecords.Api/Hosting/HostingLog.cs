namespace CustomerRecords.Api.Hosting;

/// <summary>Log events of the request edge (event id 7004). No message carries a secret or personal data.</summary>
internal static partial class HostingLog
{
    [LoggerMessage(7004, LogLevel.Warning, "Rate limit exceeded for {Partition}; retry after {RetryAfterSeconds} s.")]
    public static partial void RateLimited(ILogger logger, string partition, int retryAfterSeconds);
}
