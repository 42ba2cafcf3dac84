using System.Net;
using System.Net.Sockets;

namespace CustomerRecords.Tests.Infrastructure;

/// <summary>Hands out loopback TCP ports that were free a moment ago.</summary>
public static class FreePort
{
    /// <summary>
    /// Asks the kernel for an unused ephemeral port on 127.0.0.1. The port is released before
    /// returning, so another process can in principle take it before the caller binds it; the
    /// servers therefore retry with a new port when their first bind fails.
    /// </summary>
    public static int Get()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
