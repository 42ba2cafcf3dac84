using System.Reflection;
using CustomerRecords.Api.Data;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Api.Cli;

/// <summary>Program's composition of the service: every feature's registrations and middleware, on a builder made from the settings.</summary>
public delegate WebApplication ComposeService(WebApplicationBuilder builder);

/// <summary>
/// Builds, migrates and starts the service for <c>serve</c> and <c>migrate</c>, and turns every failure on the way
/// (a setting, a secret file, the database, the listen address, the exposure guard) into one message on standard
/// error and exit code 1, instead of an unhandled exception. The stack trace is printed too with <c>--verbose</c>
/// or in the Development environment.
/// </summary>
/// <remarks>
/// Inside another process (WebApplicationFactory in the tests, build-time OpenAPI generation) failures are
/// rethrown as they are: that host reports them, and a <see cref="HostAbortedException"/> is how it stops us.
/// </remarks>
internal sealed class ServiceHost(ComposeService compose, IReadOnlyList<string> settings, bool verbose, CliConsole console)
{
    /// <summary>Exit code of a run that failed.</summary>
    public const int Failed = 1;

    /// <summary>The host's own log category; its "Hosting failed to start" entry carries the stack trace.</summary>
    private const string HostCategory = "Microsoft.Extensions.Hosting.Internal.Host";

    private bool? _development;

    private bool ShowDetails => verbose || (_development ?? DevelopmentFromEnvironment());

    /// <summary>
    /// <c>serve</c>: settings are validated (all of them, before anything else happens), the schema migrated when
    /// <c>Database:MigrateOnStartup</c> is on, then the server started; returns when it has shut down.
    /// </summary>
    public async Task<int> ServeAsync(CancellationToken ct)
    {
        var starting = new StartPhase();
        WebApplication? app = null;
        try
        {
            app = Build(starting, logToStandardError: false);

            // The host would validate at StartAsync, after the migrations; a wrong setting should cost nothing.
            app.Services.GetService<IStartupValidator>()?.Validate();
            await app.MigrateDatabaseAsync(ct: ct);
            await app.StartAsync(ct);
            starting.Over = true;
        }
        catch (Exception e) when (e is not HostAbortedException)
        {
            await StopAsync(app);
            if (!RunsAsTheProcess)
            {
                throw;
            }

            console.Error.WriteLine(StartupFailure.Describe("Start-up failed", e, ShowDetails));
            return Failed;
        }

        try
        {
            await app.WaitForShutdownAsync(CancellationToken.None);
        }
        finally
        {
            await app.DisposeAsync();
        }

        // A background service that stopped the host may have set it.
        return Environment.ExitCode;
    }

    /// <summary><c>migrate</c>: applies what is pending (or, with <paramref name="statusOnly"/>, only reports) and prints the schema version.</summary>
    public async Task<int> MigrateAsync(bool statusOnly, CancellationToken ct)
    {
        WebApplication? app = null;
        try
        {
            app = Build(null, logToStandardError: true);
            var report = statusOnly
                ? (await app.DatabaseStatusAsync(ct)).ToString()
                : (await app.MigrateDatabaseAsync(force: true, ct))!.ToString();
            console.Out.WriteLine(report);
            return 0;
        }
        catch (Exception e) when (e is not HostAbortedException && RunsAsTheProcess)
        {
            console.Error.WriteLine(StartupFailure.Describe(statusOnly ? "Schema status failed" : "Migration failed", e, ShowDetails));
            return Failed;
        }
        finally
        {
            if (app is not null)
            {
                await app.DisposeAsync();
            }
        }
    }

    /// <summary><c>flush-cache</c>: deletes this deployment's keys (<c>Cache:KeyPrefix</c>) from Redis and prints how many.</summary>
    public Task<int> FlushCacheAsync(CancellationToken ct) =>
        RunToolAsync("Flushing the cache failed", migrate: false, async (services, token) =>
        {
            var mode = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Caching.CacheOptions>>().Value.Mode;
            if (mode != Caching.CacheMode.Redis)
            {
                throw new InvalidOperationException($"flush-cache needs Cache:Mode Redis (it is {mode}): only Redis outlives a restart of the service.");
            }

            var deleted = await services.GetRequiredService<Caching.CacheFlusher>().FlushAsync(token);
            console.Out.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Flushed {deleted} cache entries"));
            return 0;
        }, ct);

    /// <summary>
    /// A command that works on the service's settings and database without serving (<c>flush-cache</c>, <c>import</c>,
    /// <c>export</c>, <c>seed</c>): the app is built (logs on standard error), every setting validated, the schema migrated
    /// first when <paramref name="migrate"/> is set and <c>Database:MigrateOnStartup</c> allows it, then
    /// <paramref name="body"/> runs with the app's services and returns the exit code. A failure prints one message
    /// starting with <paramref name="failureTitle"/> and exits 1.
    /// </summary>
    public async Task<int> RunToolAsync(string failureTitle, bool migrate, Func<IServiceProvider, CancellationToken, Task<int>> body, CancellationToken ct)
    {
        WebApplication? app = null;
        try
        {
            app = Build(null, logToStandardError: true);
            app.Services.GetService<IStartupValidator>()?.Validate();
            if (migrate)
            {
                await app.MigrateDatabaseAsync(ct: ct);
            }

            return await body(app.Services, ct);
        }
        catch (Exception e) when (e is not HostAbortedException && RunsAsTheProcess)
        {
            console.Error.WriteLine(StartupFailure.Describe(failureTitle, e, ShowDetails));
            return Failed;
        }
        finally
        {
            if (app is not null)
            {
                await app.DisposeAsync();
            }
        }
    }

    /// <summary>True when this assembly is the process's entry point, not a library another host loaded.</summary>
    private static bool RunsAsTheProcess => Assembly.GetEntryAssembly() == typeof(ServiceHost).Assembly;

    private WebApplication Build(StartPhase? starting, bool logToStandardError)
    {
        var builder = WebApplication.CreateBuilder([.. settings]);
        _development = builder.Environment.IsDevelopment();
        if (starting is not null && !ShowDetails)
        {
            // The stderr message replaces the host's own report of a failed start (an error with the stack trace).
            // Its other entries pass as the Default level would let them.
            builder.Logging.AddFilter(HostCategory, level => level >= LogLevel.Information && (starting.Over || level < LogLevel.Error));
        }

        if (logToStandardError)
        {
            // A command's standard output is its result; its progress and logs go to standard error.
            builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        }

        return compose(builder);
    }

    /// <summary>
    /// Stops what a failed start had started, so that its background services end quietly, and disposes the app when
    /// this is the process. Inside another host (WebApplicationFactory) the app is that host's to dispose: it is still
    /// reading the app's services to wait for the start, and disposing them here would race it into reporting a
    /// disposed provider instead of the start's own failure.
    /// </summary>
    private static async Task StopAsync(WebApplication? app)
    {
        if (app is null)
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await app.StopAsync(timeout.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or AggregateException)
        {
            // Best effort: the process is about to exit with the start's own failure.
        }

        if (RunsAsTheProcess)
        {
            await app.DisposeAsync();
        }
    }

    /// <summary>Before the builder exists (a failure while it is created), the environment as the host would read it.</summary>
    private bool DevelopmentFromEnvironment()
    {
        var fromArgs = settings
            .Select((arg, i) => arg.StartsWith("--environment=", StringComparison.OrdinalIgnoreCase) ? arg["--environment=".Length..]
                : arg.Equals("--environment", StringComparison.OrdinalIgnoreCase) && i + 1 < settings.Count ? settings[i + 1]
                : null)
            .LastOrDefault(v => v is not null);
        var environment = fromArgs
            ?? Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT")
            ?? Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT");
        return string.Equals(environment, Environments.Development, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Whether the server has started; until then the host's start-failure report is left to us.</summary>
    private sealed class StartPhase
    {
        public volatile bool Over;
    }
}
