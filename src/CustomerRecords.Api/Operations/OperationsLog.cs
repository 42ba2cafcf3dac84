namespace CustomerRecords.Api.Operations;

/// <summary>Log events of the Operations feature (event ids 9000–9099). Messages carry no PII.</summary>
internal static partial class OperationsLog
{
    [LoggerMessage(EventId = 9001, Level = LogLevel.Information,
        Message = "HTTP {Method} {Route} responded {StatusCode} in {ElapsedMilliseconds:0.0} ms")]
    public static partial void RequestCompleted(ILogger logger, string method, string route, int statusCode, double elapsedMilliseconds);

    [LoggerMessage(EventId = 9002, Level = LogLevel.Information,
        Message = "Exporting traces and metrics over OTLP ({Protocol})")]
    public static partial void OtlpExportEnabled(ILogger logger, string protocol);
}
