using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace CustomerRecords.Tests.Data;

/// <summary>
/// A loopback TCP forwarder standing in for a DNS endpoint such as an Aurora/RDS cluster writer
/// endpoint: <see cref="SwitchTo"/> changes where new connections go, while connections already
/// open stay on the old server, just as clients that resolved the old address keep their sockets.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Socket, byte> _open = new();
    private readonly Task _acceptLoop;
    private int _targetPort;
    private int _accepted;
    private long _holdUntil;

    public TcpProxy(int targetPort)
    {
        _targetPort = targetPort;
        _listener.Start();
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The port clients connect to.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>New connections go to <paramref name="port"/> from now on; open ones are left alone.</summary>
    public void SwitchTo(int port) => Volatile.Write(ref _targetPort, port);

    /// <summary>
    /// What a paused Aurora Serverless cluster looks like while it resumes: the open connections are dropped (a
    /// pause ends every session), and for the next <paramref name="duration"/> a new connection is accepted but not
    /// forwarded — no server greeting — until the time is up; then it goes through, as the resumed server answers
    /// the handshake. A client that gives up before then (its connect timeout) has its connection closed.
    /// </summary>
    public void HoldNewConnections(TimeSpan duration)
    {
        Volatile.Write(ref _holdUntil, Environment.TickCount64 + (long)duration.TotalMilliseconds);
        foreach (var socket in _open.Keys)
        {
            try
            {
                socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Already gone.
            }
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Interlocked.Increment(ref _accepted);
            _ = Task.Run(() => ForwardAsync(client, Volatile.Read(ref _targetPort)));
        }
    }

    private async Task ForwardAsync(Socket client, int port)
    {
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _open[client] = 0;
        _open[server] = 0;
        try
        {
            var hold = Volatile.Read(ref _holdUntil) - Environment.TickCount64;
            if (hold > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(hold), _stop.Token);
            }

            using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
            {
                connectTimeout.CancelAfter(TimeSpan.FromSeconds(10));
                await server.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), connectTimeout.Token);
            }

            // When either side ends, close both, as a real TCP path would.
            await Task.WhenAny(PumpAsync(client, server), PumpAsync(server, client));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The target refused or the proxy stopped: the client sees its connection close.
        }
        finally
        {
            _open.TryRemove(client, out _);
            _open.TryRemove(server, out _);
            client.Dispose();
        }
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (read == 0)
                {
                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // One side went away.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        foreach (var socket in _open.Keys)
        {
            socket.Dispose();
        }

        await _acceptLoop;
        _stop.Dispose();
    }
}
