using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace CustomerRecords.Tests.Infrastructure;

/// <summary>
/// A real redis-server run as a child process on a free loopback port: no persistence, its own
/// scratch directory, so tests can kill, pause and restart it without touching anything else.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private const int StartAttempts = 3;
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StopGracePeriod = TimeSpan.FromSeconds(10);

    private ServerProcess? _process;
    private bool _disposed;

    private RedisServer(string workDirectory) => WorkDirectory = workDirectory;

    public string Host { get; } = "127.0.0.1";

    public int Port { get; private set; }

    /// <summary>StackExchange.Redis style "host:port".</summary>
    public string ConnectionString => string.Create(CultureInfo.InvariantCulture, $"{Host}:{Port}");

    /// <summary>Holds the config and log; deleted on dispose.</summary>
    public string WorkDirectory { get; }

    public string LogPath => Path.Combine(WorkDirectory, "redis.log");

    private string ConfigPath => Path.Combine(WorkDirectory, "redis.conf");

    public static async Task<RedisServer> StartAsync(CancellationToken cancellationToken = default)
    {
        _ = ServerBinaries.RedisServer;
        var server = new RedisServer(TestDirectory.Create("redis"));
        try
        {
            // FreePort's port can be taken before redis binds it; then redis exits at once.
            for (var attempt = 1; ; attempt++)
            {
                server.Port = FreePort.Get();
                await server.WriteConfigAsync(cancellationToken);
                if (await server.LaunchAsync(cancellationToken))
                {
                    return server;
                }

                var log = TestDirectory.Tail(server.LogPath);
                if (attempt == StartAttempts || !log.Contains("Address already in use", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException(
                        string.Create(CultureInfo.InvariantCulture, $"redis-server exited while starting on port {server.Port}. Log tail:{Environment.NewLine}") + log);
                }
            }
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Sends PING over a raw socket (no client library needed) and reports whether +PONG came
    /// back within <paramref name="timeout"/>.
    /// </summary>
    public async Task<bool> PingAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(Host, Port, deadline.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), deadline.Token);

            var reply = new StringBuilder();
            var buffer = new byte[64];
            while (!reply.ToString().EndsWith("\r\n", StringComparison.Ordinal))
            {
                var read = await stream.ReadAsync(buffer, deadline.Token);
                if (read == 0)
                {
                    return false;
                }

                reply.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }

            return reply.ToString() == "+PONG\r\n";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>SIGKILL; waits until the process is gone.</summary>
    public async Task KillAsync()
    {
        if (_process is null)
        {
            return;
        }

        await _process.KillAsync();
        _process.Dispose();
        _process = null;
    }

    /// <summary>SIGTERM (SIGKILL after 10 s); waits until the process is gone.</summary>
    public async Task StopAsync()
    {
        if (_process is null)
        {
            return;
        }

        await _process.StopAsync(StopGracePeriod);
        _process.Dispose();
        _process = null;
    }

    /// <summary>Starts a stopped or killed server again on the same port (empty: nothing is persisted).</summary>
    public async Task StartAgainAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_process is not null)
        {
            throw new InvalidOperationException("The server is still running; KillAsync or StopAsync it first.");
        }

        if (!await LaunchAsync(cancellationToken))
        {
            throw new InvalidOperationException(
                $"redis-server exited while starting again on port {Port}. Log tail:{Environment.NewLine}{TestDirectory.Tail(LogPath)}");
        }
    }

    /// <summary>SIGSTOP: connections are accepted by the kernel but nothing is answered, like a hung host.</summary>
    public void Pause() => RequireRunning().Signal(Libc.SigStop);

    /// <summary>SIGCONT after <see cref="Pause"/>.</summary>
    public void Resume() => RequireRunning().Signal(Libc.SigCont);

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await StopAsync();
        if (Environment.GetEnvironmentVariable("CRTEST_KEEP_SERVER_DIRS") != "1")
        {
            await TestDirectory.DeleteAsync(WorkDirectory);
        }
    }

    private ServerProcess RequireRunning() =>
        _process ?? throw new InvalidOperationException("The server is not running.");

    private Task WriteConfigAsync(CancellationToken cancellationToken) =>
        // A config file rather than command-line flags: `save ""` survives no quoting layer.
        // protected-mode stays on; with a loopback bind it changes nothing for the tests.
        File.WriteAllTextAsync(
            ConfigPath,
            string.Create(
                CultureInfo.InvariantCulture,
                $"""
                bind {Host}
                port {Port}
                protected-mode yes
                daemonize no
                save ""
                appendonly no
                dir "{WorkDirectory}"
                logfile "{LogPath}"
                pidfile "{Path.Combine(WorkDirectory, "redis.pid")}"

                """),
            cancellationToken);

    /// <returns>True once the server answers PING; false if the process exited first.</returns>
    private async Task<bool> LaunchAsync(CancellationToken cancellationToken)
    {
        var process = ServerProcess.Start(
            ServerBinaries.RedisServer, [ConfigPath], Path.Combine(WorkDirectory, "redis.out.log"), WorkDirectory);
        _process = process;
        var deadline = DateTime.UtcNow + StartupTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                await KillAsync();
                return false;
            }

            if (await PingAsync(TimeSpan.FromSeconds(1), cancellationToken))
            {
                return true;
            }

            await Task.Delay(25, cancellationToken);
        }

        await KillAsync();
        throw new TimeoutException(
            $"redis-server did not answer PING on port {Port} within {StartupTimeout}. Log tail:{Environment.NewLine}{TestDirectory.Tail(LogPath)}");
    }
}
