using System.Diagnostics;
using System.Globalization;

namespace CustomerRecords.Tests.Infrastructure;

/// <summary>
/// One run of a server executable: output drained to a log file, registered for cleanup, and
/// guarded by a watchdog that ends it if the test host itself is killed (SIGKILL skips
/// <see cref="AppDomain.ProcessExit"/>, e.g. when the runner aborts a hung test run).
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    // Runs detached from our stdio so a killed test host's pipes close at once, and ignores
    // SIGINT/SIGHUP so a Ctrl+C on the test run does not take it down before it can clean up.
    // It only acts once the owner is gone, and quits by itself as soon as the server has
    // stopped for any other reason (KillAsync, StopAsync), so it never signals a recycled pid.
    // The wait after SIGKILL is bounded because an orphaned server stays a zombie (and passes
    // kill -0) until init reaps it, which a container's init may do late. A server pid of 0
    // means there is only a directory to remove; then it quits once the directory is gone.
    private const string WatchdogScript = """
        exec </dev/null >/dev/null 2>&1
        trap '' INT HUP
        while kill -0 "$1"; do
          if [ "$2" = 0 ]; then [ -d "$3" ] || exit 0; else kill -0 "$2" || exit 0; fi
          sleep 1
        done
        if [ "$2" != 0 ]; then
          kill -CONT "$2"
          kill -KILL "$2"
          for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$2" || break
            sleep 0.2
          done
        fi
        rm -rf "$3"
        """;

    private readonly Process _process;
    private readonly string _outputLogPath;
    private readonly Lock _outputLock = new();

    private ServerProcess(Process process, string outputLogPath)
    {
        _process = process;
        _outputLogPath = outputLogPath;
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts <paramref name="fileName"/>; its stdout and stderr go to <paramref name="outputLogPath"/>.</summary>
    /// <param name="fileName">The executable.</param>
    /// <param name="arguments">Passed as separate argv entries, so no quoting is needed.</param>
    /// <param name="outputLogPath">Appended to, line by line.</param>
    /// <param name="workDirectory">Working directory; removed by the watchdog if the test host dies.</param>
    public static ServerProcess Start(string fileName, IEnumerable<string> arguments, string outputLogPath, string workDirectory)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workDirectory,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = startInfo };
        var server = new ServerProcess(process, outputLogPath);
        process.OutputDataReceived += (_, e) => server.AppendOutput(e.Data);
        process.ErrorDataReceived += (_, e) => server.AppendOutput(e.Data);
        process.Start();
        ChildProcessRegistry.Add(process);
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        StartWatchdog(process.Id, workDirectory);
        return server;
    }

    public void Signal(int signal) => Libc.SendSignal(_process.Id, signal);

    /// <summary>Waits for a short-lived tool (e.g. install-db) to finish; kills it on cancellation.</summary>
    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
            throw;
        }

        ChildProcessRegistry.Remove(_process);
        return _process.ExitCode;
    }

    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        await _process.WaitForExitAsync();
        ChildProcessRegistry.Remove(_process);
    }

    /// <summary>SIGTERM, then SIGKILL if the process has not exited within <paramref name="gracePeriod"/>.</summary>
    /// <returns>Whether the process exited by itself.</returns>
    public async Task<bool> StopAsync(TimeSpan gracePeriod)
    {
        if (_process.HasExited)
        {
            ChildProcessRegistry.Remove(_process);
            return true;
        }

        // A paused (SIGSTOPped) process would keep SIGTERM pending forever.
        TrySignal(Libc.SigCont);
        TrySignal(Libc.SigTerm);
        using var timeout = new CancellationTokenSource(gracePeriod);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
            ChildProcessRegistry.Remove(_process);
            return true;
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
            return false;
        }
    }

    public void Dispose() => _process.Dispose();

    private void TrySignal(int signal)
    {
        try
        {
            Signal(signal);
        }
        catch (InvalidOperationException) when (_process.HasExited)
        {
            // It exited between the check and the signal.
        }
    }

    private void AppendOutput(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_outputLock)
        {
            File.AppendAllText(_outputLogPath, line + Environment.NewLine);
        }
    }

    /// <summary>Removes <paramref name="directory"/> once the test host has exited, however it exited.</summary>
    public static void DeleteWhenTestHostExits(string directory) => StartWatchdog(0, directory);

    private static void StartWatchdog(int serverPid, string workDirectory)
    {
        var startInfo = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        startInfo.ArgumentList.Add("-c");
        startInfo.ArgumentList.Add(WatchdogScript);
        startInfo.ArgumentList.Add("crtest-watchdog");
        startInfo.ArgumentList.Add(Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        startInfo.ArgumentList.Add(serverPid.ToString(CultureInfo.InvariantCulture));
        startInfo.ArgumentList.Add(workDirectory);
        using var watchdog = Process.Start(startInfo);
    }
}
