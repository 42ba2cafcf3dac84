using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Api.Auth;

/// <summary>
/// Secure by default: without authentication the service may only listen on loopback, unless
/// <c>Auth:AllowAnonymous</c> says otherwise. Configured addresses are checked before the server starts;
/// the server's real addresses right after it started. Until that second check passes, an open service
/// answers 503, so nothing is served from a public address even for a moment.
/// </summary>
internal sealed class ExposureGuard(
    IOptions<AuthOptions> auth,
    IConfiguration configuration,
    IServer server,
    ILogger<ExposureGuard> logger) : IHostedLifecycleService
{
    private volatile bool _verified;

    /// <summary>True once requests may be served.</summary>
    public bool Verified => _verified || auth.Value.AuthenticationConfigured;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        if (auth.Value.AuthenticationConfigured || IsInMemoryServer(server))
        {
            return Task.CompletedTask;
        }

        var configured = ConfiguredAddresses(configuration)
            .Concat(server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [])
            .ToList();
        Check(configured);
        return Task.CompletedTask;
    }

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        var options = auth.Value;
        if (options.AuthenticationConfigured)
        {
            return Task.CompletedTask;
        }

        var actual = IsInMemoryServer(server)
            ? []
            : server.Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
        Check(actual);
        var shown = actual.Count == 0 ? "the in-process test server" : string.Join(", ", actual);
        if (options.AllowAnonymous && actual.Any(a => !ListenAddresses.IsLocalOnly(a)))
        {
            AuthLog.RunningOpenOnPurpose(logger, shown);
        }
        else
        {
            AuthLog.RunningOpenOnLoopback(logger, shown);
        }

        _verified = true;
        return Task.CompletedTask;
    }

    private void Check(IReadOnlyCollection<string> addresses)
    {
        if (auth.Value.AllowAnonymous)
        {
            return;
        }

        var exposed = addresses.Where(a => !ListenAddresses.IsLocalOnly(a)).Distinct().ToList();
        if (exposed.Count > 0)
        {
            var message =
                $"Refusing to start: no authentication is configured and the server would listen on {string.Join(", ", exposed)}, " +
                "which is not loopback. Configure Auth:Jwt:Authority and Auth:Jwt:Audience (OIDC tokens) or Auth:ApiKeys " +
                "(hash keys with 'CustomerRecords.Api hash-key'), or set Auth:AllowAnonymous=true to serve without authentication on purpose.";
            AuthLog.RefusingToStart(logger, string.Join(", ", exposed));
            throw new InvalidOperationException(message);
        }
    }

    /// <summary>Listen addresses named by configuration: <c>urls</c> (ASPNETCORE_URLS, --urls), <c>http_ports</c>, <c>https_ports</c>, <c>Kestrel:Endpoints:*:Url</c>.</summary>
    internal static IEnumerable<string> ConfiguredAddresses(IConfiguration configuration)
    {
        foreach (var url in Split(configuration["urls"]))
        {
            yield return url;
        }

        foreach (var (key, scheme) in new[] { ("http_ports", "http"), ("https_ports", "https") })
        {
            foreach (var port in Split(configuration[key]))
            {
                // ASPNETCORE_HTTP_PORTS binds every interface.
                yield return $"{scheme}://*:{port}";
            }
        }

        foreach (var endpoint in configuration.GetSection("Kestrel:Endpoints").GetChildren())
        {
            if (endpoint["Url"] is { Length: > 0 } url)
            {
                yield return url;
            }
        }
    }

    private static string[] Split(string? value) =>
        value?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];

    /// <summary>
    /// WebApplicationFactory's TestServer has no socket at all; it counts as loopback (the API core's tests run
    /// unauthenticated). Matched by name so that the service does not depend on the test host package.
    /// </summary>
    private static bool IsInMemoryServer(IServer server) =>
        server.GetType().FullName == "Microsoft.AspNetCore.TestHost.TestServer";

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Classifies listen addresses such as <c>http://127.0.0.1:5000</c>, <c>http://+:80</c>, <c>https://[::]:443</c>.</summary>
public static class ListenAddresses
{
    /// <summary>
    /// True when the address accepts connections from this machine only: <c>localhost</c>, a loopback IP,
    /// or a Unix socket / named pipe. Wildcards (<c>*</c>, <c>+</c>, <c>0.0.0.0</c>, <c>[::]</c>), other IPs and
    /// other host names are not.
    /// </summary>
    public static bool IsLocalOnly(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var rest = address.Trim();
        var schemeEnd = rest.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd >= 0)
        {
            rest = rest[(schemeEnd + 3)..];
        }

        if (rest.StartsWith("unix:", StringComparison.OrdinalIgnoreCase) || rest.StartsWith("pipe:", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        string host;
        if (rest.StartsWith('['))
        {
            var close = rest.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                return false;
            }

            host = rest[1..close];
        }
        else
        {
            var end = rest.IndexOfAny([':', '/']);
            host = end < 0 ? rest : rest[..end];
        }

        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip);
    }
}
