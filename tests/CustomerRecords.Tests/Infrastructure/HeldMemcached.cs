using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CustomerRecords.Tests.Infrastructure;

/// <summary>
/// A loopback TCP server that speaks just enough of memcached's text protocol (<c>gets</c>) to answer from a fixed
/// set of items, and that can be held: while held it accepts connections and reads commands but answers nothing
/// (a hung host, deterministically: no signal to race), and on release it sends every withheld reply late, on the
/// connection the command came on.
/// </summary>
public sealed class HeldMemcached : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Socket, byte> _open = new();
    private readonly IReadOnlyDictionary<string, string> _items;
    private readonly Task _acceptLoop;
    private readonly Lock _gate = new();
    private TaskCompletionSource _released = Released();
    private TaskCompletionSource<string> _heldCommand = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public HeldMemcached(IReadOnlyDictionary<string, string> items)
    {
        _items = items;
        _listener.Start();
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>From now on commands are read and not answered until <see cref="Release"/>.</summary>
    public void Hold()
    {
        lock (_gate)
        {
            _released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _heldCommand = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>Completes with the first command read since <see cref="Hold"/> (it was received and is not answered).</summary>
    public Task<string> HeldCommand
    {
        get
        {
            lock (_gate)
            {
                return _heldCommand.Task;
            }
        }
    }

    /// <summary>Sends the withheld replies and answers at once again.</summary>
    public void Release()
    {
        lock (_gate)
        {
            _released.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Release();
        await _stop.CancelAsync();
        _listener.Stop();
        foreach (var socket in _open.Keys)
        {
            socket.Dispose();
        }

        await _acceptLoop;
        _stop.Dispose();
    }

    private static TaskCompletionSource Released()
    {
        var released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        released.SetResult();
        return released;
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var client = await _listener.AcceptSocketAsync(_stop.Token);
                _ = Task.Run(() => ServeAsync(client));
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        _open[socket] = 0;
        try
        {
            await using var stream = new NetworkStream(socket, ownsSocket: true);
            using var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
            while (await reader.ReadLineAsync(_stop.Token) is { } command)
            {
                Task released;
                lock (_gate)
                {
                    released = _released.Task;
                    if (!released.IsCompleted)
                    {
                        _heldCommand.TrySetResult(command);
                    }
                }

                await released.WaitAsync(_stop.Token);
                await stream.WriteAsync(Encoding.ASCII.GetBytes(Reply(command)), _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // The client closed the connection or the server stopped.
        }
        finally
        {
            _open.TryRemove(socket, out _);
        }
    }

    private string Reply(string command)
    {
        var parts = command.Split(' ');
        if (parts is not ["gets", var key])
        {
            return "ERROR\r\n";
        }

        return _items.TryGetValue(key, out var value)
            ? $"VALUE {key} 0 {Encoding.ASCII.GetByteCount(value)} 1\r\n{value}\r\nEND\r\n"
            : "END\r\n";
    }
}
