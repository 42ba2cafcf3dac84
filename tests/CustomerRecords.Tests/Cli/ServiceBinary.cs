using System.Diagnostics;
using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.Cli;

/// <summary>
/// Runs the service's own binary as an operator would (<c>dotnet CustomerRecords.Api.dll ...</c>) in a working
/// directory of the test's, in the Production environment (no ASPNETCORE_/DOTNET_ environment inherited), with
/// standard input closed, and waits for it to exit.
/// </summary>
internal static class ServiceBinary
{
    /// <param name="ExitCode">The process's exit code.</param>
    /// <param name="Out">Standard output: data, and in Production the JSON log lines.</param>
    /// <param name="Error">Standard error: the messages meant for a person.</param>
    /// <param name="Elapsed">From start to exit.</param>
    public sealed record Result(int ExitCode, string Out, string Error, TimeSpan Elapsed)
    {
        /// <summary>Both streams, for failure messages.</summary>
        public override string ToString() =>
            $"exit code {ExitCode} after {Elapsed.TotalSeconds:0.0} s{Environment.NewLine}--- stderr:{Environment.NewLine}{Error}{Environment.NewLine}--- stdout:{Environment.NewLine}{Out}";
    }

    /// <summary>
    /// The host setting that reads configuration (appsettings.json) from the app's folder, as the deploy files run it
    /// (systemd's WorkingDirectory, the image's WORKDIR); by default the content root is the working directory.
    /// </summary>
    public static string AsDeployed => $"--contentRoot={AppContext.BaseDirectory}";

    public static async Task<Result> RunAsync(
        string workingDirectory,
        IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? environment = null,
        TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "CustomerRecords.Api.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var name in start.Environment.Keys
            .Where(k => k.StartsWith("ASPNETCORE_", StringComparison.Ordinal) || k == "DOTNET_ENVIRONMENT")
            .ToList())
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        ChildProcessRegistry.Add(process);
        try
        {
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            using var limit = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(90));
            try
            {
                await process.WaitForExitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"The service did not exit within {timeout ?? TimeSpan.FromSeconds(90)}: {string.Join(' ', start.ArgumentList.Skip(1))}");
            }

            return new Result(process.ExitCode, await output, await errors, clock.Elapsed);
        }
        finally
        {
            ChildProcessRegistry.Remove(process);
        }
    }
}
