using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace CustomerRecords.Tests.Infrastructure;

/// <summary>
/// A real redis-server run as a child process on a free loopback port: no persistence, its own
/// scratch directory, so tests can kill, pause and restart it without touching anything else.
/// </summary>
public sealed class RedisServer : ChildServer
{
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(30);

    private readonly string _extraConfig;

    private RedisServer(string workDirectory, string extraConfig)
        : base(workDirectory)
    {
        _extraConfig = extraConfig;
    }

    /// <summary>StackExchange.Redis style "host:port".</summary>
    public string ConnectionString => string.Create(CultureInfo.InvariantCulture, $"{Host}:{Port}");

    public string LogPath => Path.Combine(WorkDirectory, "redis.log");

    private string ConfigPath => Path.Combine(WorkDirectory, "redis.conf");

    public static Task<RedisServer> StartAsync(CancellationToken cancellationToken = default) => StartAsync(string.Empty, cancellationToken);

    /// <summary>Starts one with more lines of redis.conf (e.g. a cluster node's, see <see cref="RedisClusterServer"/>).</summary>
    public static async Task<RedisServer> StartAsync(string extraConfig, CancellationToken cancellationToken = default)
    {
        _ = ServerBinaries.RedisServer;
        var server = new RedisServer(TestDirectory.Create("redis"), extraConfig);
        return await LaunchOnFreePortAsync(server, server.WriteConfigAsync, cancellationToken);
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
                {_extraConfig}

                """),
            cancellationToken);

    /// <returns>True once the server answers PING; false if the process exited first.</returns>
    protected override string ProgramName => "redis-server";

    protected override string DiagnosticLogPath => LogPath;

    protected override async Task<bool> LaunchAsync(CancellationToken cancellationToken)
    {
        var process = ServerProcess.Start(
            ServerBinaries.RedisServer, [ConfigPath], Path.Combine(WorkDirectory, "redis.out.log"), WorkDirectory);
        Attach(process);
        return await AwaitAnswerAsync(process, ct => PingAsync(TimeSpan.FromSeconds(1), ct), "answer PING", StartupTimeout, cancellationToken);
    }
}
