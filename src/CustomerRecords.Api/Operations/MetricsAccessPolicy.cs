using System.Net;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Api.Operations;

/// <summary>
/// Decides who may scrape <c>/metrics</c>. Metrics reveal traffic shape, error rates and dependency names,
/// so they are for the operator's scraper, not for whoever can reach the load balancer.
/// </summary>
internal sealed class MetricsAccessPolicy
{
    // Any of these means the request was relayed by a proxy, load balancer or CDN; an on-host scraper sends none of
    // them. Behind the ALB the TCP peer is the ALB's private address, so an address check alone would hand /metrics
    // to the internet. The ALB adds X-Forwarded-For/-Proto/-Port and X-Amzn-Trace-Id to every request it relays;
    // X-Original-* is what the forwarded-headers middleware leaves behind once it has consumed X-Forwarded-*.
    internal static readonly string[] ProxyHeaders =
    [
        "Forwarded",
        "X-Forwarded-For",
        "X-Forwarded-Host",
        "X-Forwarded-Proto",
        "X-Forwarded-Port",
        "X-Forwarded-Server",
        "X-Original-For",
        "X-Original-Host",
        "X-Original-Proto",
        "X-Real-IP",
        "True-Client-IP",
        "CF-Connecting-IP",
        "X-Client-IP",
        "X-Cluster-Client-IP",
        "Fastly-Client-IP",
        "X-Amzn-Trace-Id",
        "Via",
    ];

    private readonly IPNetwork[] _allowed;

    public MetricsAccessPolicy(IOptions<ObservabilityOptions> options)
    {
        // Loopback always: an on-host agent (CloudWatch agent, Prometheus agent) is the default scraper.
        _allowed =
        [
            IPNetwork.Parse("127.0.0.0/8"),
            IPNetwork.Parse("::1/128"),
            .. options.Value.MetricsAllowedNetworks.Select(IPNetwork.Parse),
        ];
    }

    public bool Allows(HttpContext context)
    {
        foreach (var header in ProxyHeaders)
        {
            if (context.Request.Headers.ContainsKey(header))
            {
                return false;
            }
        }

        var remote = context.Connection.RemoteIpAddress;
        if (remote is null)
        {
            // No IP peer: a Unix domain socket (guarded by file permissions) or the in-process test server.
            return true;
        }

        if (remote.IsIPv4MappedToIPv6)
        {
            remote = remote.MapToIPv4();
        }

        foreach (var network in _allowed)
        {
            if (network.Contains(remote))
            {
                return true;
            }
        }

        return false;
    }

    public static bool IsValidNetwork(string value) => IPNetwork.TryParse(value, out _);
}
