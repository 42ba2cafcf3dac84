using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace CustomerRecords.Tests.Infrastructure;

/// <summary>
/// A real memcached run as a child process on a free loopback port (TCP only, 64 MB), so tests can kill,
/// pause and restart it without touching anything else. It persists nothing: a restart is empty.
/// </summary>
public sealed class MemcachedServer : ChildServer
{
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(30);

    private MemcachedServer(string workDirectory)
        : base(workDirectory)
    {
    }

    /// <summary><c>ConnectionStrings:Memcached</c> style "host:port".</summary>
    public string ConnectionString => string.Create(CultureInfo.InvariantCulture, $"{Host}:{Port}");

    public string LogPath => Path.Combine(WorkDirectory, "memcached.out.log");

    protected override string ProgramName => "memcached";

    protected override string DiagnosticLogPath => LogPath;

    public static async Task<MemcachedServer> StartAsync(CancellationToken cancellationToken = default)
    {
        _ = ServerBinaries.Memcached;
        return await LaunchOnFreePortAsync(new MemcachedServer(TestDirectory.Create("memcached")), null, cancellationToken);
    }

    /// <summary>Sends <c>version</c> over a raw socket and reports whether a <c>VERSION</c> line came back within <paramref name="timeout"/>.</summary>
    public async Task<bool> PingAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        (await CommandAsync("version", timeout, cancellationToken))?.StartsWith("VERSION ", StringComparison.Ordinal) == true;

    /// <summary>Sends one text-protocol command over a raw socket; returns the first reply line, null when the server did not answer.</summary>
    public async Task<string?> CommandAsync(string command, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(Host, Port, deadline.Token);
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"), deadline.Token);

            var reply = new StringBuilder();
            var buffer = new byte[4096];
            while (!reply.ToString().Contains("\r\n", StringComparison.Ordinal))
            {
                var read = await stream.ReadAsync(buffer, deadline.Token);
                if (read == 0)
                {
                    return null;
                }

                reply.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }

            var text = reply.ToString();
            return text[..text.IndexOf("\r\n", StringComparison.Ordinal)];
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (SocketException)
        {
            return null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <returns>True once the server answers <c>version</c>; false if the process exited first.</returns>
    protected override async Task<bool> LaunchAsync(CancellationToken cancellationToken)
    {
        // memcached refuses to run as root unless told which user to be: the current one.
        List<string> arguments = ["-l", Host, "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", "0", "-m", "64", "-c", "1024"];
        if (Environment.UserName == "root")
        {
            arguments.AddRange(["-u", "root"]);
        }

        var process = ServerProcess.Start(ServerBinaries.Memcached, arguments, LogPath, WorkDirectory);
        Attach(process);
        return await AwaitAnswerAsync(process, ct => PingAsync(TimeSpan.FromSeconds(1), ct), "answer version", StartupTimeout, cancellationToken);
    }
}
