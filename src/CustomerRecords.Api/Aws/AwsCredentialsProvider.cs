using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;

namespace CustomerRecords.Api.Aws;

/// <summary>
/// AWS credentials of the environment: <c>AWS_ACCESS_KEY_ID</c>/<c>AWS_SECRET_ACCESS_KEY</c>/<c>AWS_SESSION_TOKEN</c>,
/// else the EC2 instance profile through IMDSv2. Instance-profile credentials are cached until five minutes
/// before they expire; if a refresh fails the cached ones are used while still valid.
/// </summary>
public sealed class AwsCredentialsProvider : IDisposable
{
    /// <summary>Default IMDS endpoint.</summary>
    public static readonly Uri DefaultImdsEndpoint = new("http://169.254.169.254/");

    private static readonly TimeSpan RefreshMargin = TimeSpan.FromMinutes(5);
    private readonly HttpClient _imds;
    private readonly Func<string, string?> _environment;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private AwsCredentials? _cached;

    /// <summary>Creates a provider.</summary>
    /// <param name="imdsHandler">HTTP handler for IMDS calls; tests pass a fake one so that IMDS is never contacted.</param>
    /// <param name="environment">Reads an environment variable (default <see cref="Environment.GetEnvironmentVariable(string)"/>).</param>
    /// <param name="time">Clock (default system).</param>
    /// <param name="logger">Logger.</param>
    /// <param name="imdsTimeout">Per-attempt IMDS timeout; short, so a machine outside EC2 fails fast. Default 2 s.</param>
    public AwsCredentialsProvider(
        HttpMessageHandler imdsHandler, Func<string, string?>? environment = null, TimeProvider? time = null,
        ILogger? logger = null, TimeSpan? imdsTimeout = null)
    {
        _environment = environment ?? Environment.GetEnvironmentVariable;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        var endpoint = _environment("AWS_EC2_METADATA_SERVICE_ENDPOINT") is { Length: > 0 } configured ? new Uri(configured) : DefaultImdsEndpoint;
        _imds = new HttpClient(imdsHandler, disposeHandler: true) { BaseAddress = endpoint, Timeout = imdsTimeout ?? TimeSpan.FromSeconds(2) };
    }

    /// <summary>A handler for the real IMDS: 1 s connect timeout, no proxy.</summary>
    public static HttpMessageHandler CreateImdsHandler() => new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(1), UseProxy = false };

    /// <summary>Current credentials, from the environment or the instance profile.</summary>
    public async ValueTask<AwsCredentials> GetCredentialsAsync(CancellationToken cancellationToken = default)
    {
        var accessKey = _environment("AWS_ACCESS_KEY_ID");
        var secretKey = _environment("AWS_SECRET_ACCESS_KEY");
        if (!string.IsNullOrEmpty(accessKey) && !string.IsNullOrEmpty(secretKey))
        {
            var token = _environment("AWS_SESSION_TOKEN");
            return new AwsCredentials(accessKey, secretKey, string.IsNullOrEmpty(token) ? null : token);
        }

        if (string.Equals(_environment("AWS_EC2_METADATA_DISABLED"), "true", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException("No AWS credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set and AWS_EC2_METADATA_DISABLED=true.");
        }

        var now = _time.GetUtcNow();
        if (_cached is { } fresh && fresh.Expiration - RefreshMargin > now)
        {
            return fresh;
        }

        await _lock.WaitAsync(cancellationToken);
        try
        {
            now = _time.GetUtcNow();
            if (_cached is { } again && again.Expiration - RefreshMargin > now)
            {
                return again;
            }

            try
            {
                _cached = await FetchFromImdsAsync(cancellationToken);
                return _cached;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or InvalidOperationException
                                      && !cancellationToken.IsCancellationRequested)
            {
                if (_cached is { } stale && stale.Expiration > now)
                {
                    AwsLog.ImdsRefreshFailed(_logger, e);
                    return stale;
                }

                throw new InvalidOperationException(
                    "No AWS credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set and the EC2 instance metadata service " +
                    "did not provide instance-profile credentials (is an IAM role attached, and the IMDS hop limit at least 2 in containers?).", e);
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    private async Task<AwsCredentials> FetchFromImdsAsync(CancellationToken cancellationToken)
    {
        using var tokenRequest = new HttpRequestMessage(HttpMethod.Put, "latest/api/token");
        tokenRequest.Headers.Add("X-aws-ec2-metadata-token-ttl-seconds", "21600");
        using var tokenResponse = await _imds.SendAsync(tokenRequest, cancellationToken);
        tokenResponse.EnsureSuccessStatusCode();
        var imdsToken = (await tokenResponse.Content.ReadAsStringAsync(cancellationToken)).Trim();

        var roles = await GetAsync("latest/meta-data/iam/security-credentials/", imdsToken, cancellationToken);
        var role = roles.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault()
            ?? throw new InvalidOperationException("The instance has no IAM role attached.");
        var json = await GetAsync($"latest/meta-data/iam/security-credentials/{Uri.EscapeDataString(role)}", imdsToken, cancellationToken);

        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        if (root.TryGetProperty("Code", out var code) && code.GetString() != "Success")
        {
            throw new InvalidOperationException("The instance metadata service did not return credentials (Code is not Success).");
        }

        var credentials = new AwsCredentials(
            root.GetProperty("AccessKeyId").GetString()!,
            root.GetProperty("SecretAccessKey").GetString()!,
            root.GetProperty("Token").GetString(),
            DateTimeOffset.Parse(root.GetProperty("Expiration").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal));
        AwsLog.ImdsCredentialsFetched(_logger, role, credentials.Expiration!.Value);
        return credentials;
    }

    private async Task<string> GetAsync(string path, string imdsToken, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-aws-ec2-metadata-token", imdsToken);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await _imds.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync(cancellationToken);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _imds.Dispose();
        _lock.Dispose();
    }
}
