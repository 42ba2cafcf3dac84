using System.Net;
using System.Net.Sockets;
using System.Text;
using CustomerRecords.Tests.Auth;

namespace CustomerRecords.Tests.Hosting;

/// <summary>Kestrel limits from the <c>Limits</c> section, on a real Kestrel bound to loopback.</summary>
public sealed class RequestLimitTests : IAsyncLifetime
{
    private SecurityTestHost _host = null!;

    public async Task InitializeAsync() => _host = await SecurityTestHost.StartAsync(
        new Dictionary<string, string?>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["Limits:RequestHeadersTimeout"] = "00:00:01",
            ["Limits:MinRequestBodyDataRate:BytesPerSecond"] = "100",
            ["Limits:MinRequestBodyDataRate:GracePeriod"] = "00:00:02",
            ["RateLimit:Enabled"] = "false",
        },
        kestrel: true);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task BodyOverSixtyFourKibibytesGets413()
    {
        var json = "{\"name\":\"" + new string('x', 70 * 1024) + "\"}";
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await _host.Client.PostAsync(new Uri("/customers", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task BodyUnderTheLimitIsAccepted()
    {
        using var content = new StringContent("{\"name\":\"" + new string('x', 60 * 1024) + "\"}", Encoding.UTF8, "application/json");
        using var response = await _host.Client.PostAsync(new Uri("/customers", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task OversizedHeadersGet431()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/health/live");
        request.Headers.Add("X-Padding", new string('a', 20 * 1024));
        using var response = await _host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task ClientTricklingTheBodyIsDropped()
    {
        using var socket = await Connect();
        await Send(socket, "POST /customers HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"na");

        var answer = await ReadUntilClosed(socket, TimeSpan.FromSeconds(15));

        Assert.StartsWith("HTTP/1.1 408", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientTricklingTheHeadersIsDropped()
    {
        using var socket = await Connect();
        await Send(socket, "GET /health/live HTTP/1.1\r\nHost: localhost\r\n");

        var started = DateTime.UtcNow;
        var answer = await ReadUntilClosed(socket, TimeSpan.FromSeconds(15));

        Assert.True(answer.Length == 0 || answer.StartsWith("HTTP/1.1 408", StringComparison.Ordinal), answer);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
    }

    private async Task<Socket> Connect()
    {
        var uri = new Uri(_host.App.Urls.First());
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, uri.Port);
        return socket;
    }

    private static async Task Send(Socket socket, string text) => await socket.SendAsync(Encoding.ASCII.GetBytes(text));

    private static async Task<string> ReadUntilClosed(Socket socket, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[4096];
        var received = new StringBuilder();
        try
        {
            while (true)
            {
                var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                if (n == 0)
                {
                    break;
                }

                received.Append(Encoding.ASCII.GetString(buffer, 0, n));
            }
        }
        catch (SocketException)
        {
            // reset by the server: dropped
        }

        return received.ToString();
    }
}
