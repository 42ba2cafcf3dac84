using System.Globalization;

namespace CustomerRecords.Tests.Infrastructure;

/// <summary>
/// The life of a server the tests run as a child process — kill, stop, start again, pause, resume,
/// dispose — shared by <see cref="MariaDbServer"/> and <see cref="RedisServer"/>, which say only how
/// to launch themselves.
/// </summary>
public abstract class ChildServer : IAsyncDisposable
{
    private static readonly TimeSpan StopGracePeriod = TimeSpan.FromSeconds(10);

    private ServerProcess? _process;
    private bool _disposed;

    protected ChildServer(string workDirectory) => WorkDirectory = workDirectory;

    /// <summary>The server's own temp folder (data, config, logs); deleted on dispose.</summary>
    public string WorkDirectory { get; }

    public string Host { get; } = "127.0.0.1";

    public int Port { get; protected set; }

    /// <summary>The program's name, for messages.</summary>
    protected abstract string ProgramName { get; }

    /// <summary>The log whose tail explains a failed start.</summary>
    protected abstract string DiagnosticLogPath { get; }

    /// <summary>SIGKILL, as a crash or an OOM kill would; waits until the process is gone.</summary>
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

    /// <summary>Starts a stopped or killed server again on the same directory and port.</summary>
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
                $"{ProgramName} exited while starting again on port {Port}. Log tail:{Environment.NewLine}{TestDirectory.Tail(DiagnosticLogPath)}");
        }
    }

    /// <summary>
    /// SIGSTOP: the kernel still accepts connections but nothing is answered, like a hung host. Returns once every
    /// thread of the server is stopped: the signal is delivered asynchronously, and a thread still running could
    /// answer one more request after this returned.
    /// </summary>
    public void Pause()
    {
        var process = RequireRunning();
        process.Signal(Libc.SigStop);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!AllThreadsStopped(process.Id))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{ProgramName} (pid {process.Id}) was not stopped 10 s after SIGSTOP.");
            }

            Thread.Sleep(5);
        }
    }

    /// <summary>Whether every thread of <paramref name="pid"/> is in the stopped state (<c>T</c> in <c>/proc/PID/task/TID/stat</c>).</summary>
    private static bool AllThreadsStopped(int pid)
    {
        try
        {
            return Directory.GetDirectories($"/proc/{pid}/task").All(task =>
            {
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                var state = stat[(stat.LastIndexOf(')') + 2)..].TrimStart();
                return state.Length > 0 && state[0] is 'T' or 't';
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // a thread ended while being read: look again
        }
    }

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

        GC.SuppressFinalize(this);
    }

    /// <summary>Starts the process and waits until it answers; false when it exited first.</summary>
    protected abstract Task<bool> LaunchAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Launches <paramref name="server"/> on a free port, and on another when the one picked was taken before the
    /// server bound it ("Address already in use" in its log), up to three tries; <paramref name="beforeEachLaunch"/>
    /// runs after each port is picked (e.g. to write a config file naming it). When it cannot start, the server is
    /// disposed and the exception carries its log tail.
    /// </summary>
    private protected static async Task<T> LaunchOnFreePortAsync<T>(T server, Func<CancellationToken, Task>? beforeEachLaunch, CancellationToken cancellationToken)
        where T : ChildServer
    {
        const int Attempts = 3;
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                server.Port = FreePort.Get();
                if (beforeEachLaunch is not null)
                {
                    await beforeEachLaunch(cancellationToken);
                }

                if (await server.LaunchAsync(cancellationToken))
                {
                    return server;
                }

                var log = TestDirectory.Tail(server.DiagnosticLogPath);
                if (attempt == Attempts || !log.Contains("Address already in use", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException(
                        string.Create(CultureInfo.InvariantCulture, $"{server.ProgramName} exited while starting on port {server.Port}. Log tail:{Environment.NewLine}") + log);
                }
            }
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Records the process a launch started, so the lifecycle methods act on it.</summary>
    private protected void Attach(ServerProcess process) => _process = process;

    /// <summary>
    /// Waits for the process just <see cref="Attach"/>ed: true once <paramref name="answers"/> (one try, bounded by
    /// its own timeout) is true; false, and killed, when the process exits first; a <see cref="TimeoutException"/>
    /// with the log tail when <paramref name="timeout"/> passes (<paramref name="what"/>: what it did not do, e.g.
    /// "answer PING").
    /// </summary>
    private protected async Task<bool> AwaitAnswerAsync(
        ServerProcess process, Func<CancellationToken, Task<bool>> answers, string what, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                await KillAsync();
                return false;
            }

            if (await answers(cancellationToken))
            {
                return true;
            }

            await Task.Delay(25, cancellationToken);
        }

        await KillAsync();
        throw new TimeoutException(
            $"{ProgramName} did not {what} on port {Port} within {timeout}. Log tail:{Environment.NewLine}{TestDirectory.Tail(DiagnosticLogPath)}");
    }

    private ServerProcess RequireRunning() =>
        _process ?? throw new InvalidOperationException("The server is not running.");
}
