using CustomerRecords.Tests.Docs;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace CustomerRecords.Tests.Infrastructure;

/// <summary>
/// The real app in-process, configured by a plain settings dictionary; <paramref name="configureHost"/>, when given,
/// configures the host further after that (extra log providers, say), so the factory's own host is the one configured.
/// </summary>
public sealed class CustomerApiFactory(IReadOnlyDictionary<string, string?> settings, Action<IWebHostBuilder>? configureHost = null)
    : WebApplicationFactory<Program>
{
    public IReadOnlyDictionary<string, string?> Settings { get; } = settings;

    /// <summary>A fresh SQLite file in a temp folder; deleted with <see cref="TempDirectory"/>.</summary>
    public static Dictionary<string, string?> SqliteSettings(string directory) => new()
    {
        ["Database:Provider"] = "sqlite",
        ["ConnectionStrings:Customers"] = $"Data Source={Path.Combine(directory, "customers.db")}",
    };

    /// <summary>A factory over a fresh SQLite file in a temp folder that is removed when the test run ends.</summary>
    public static CustomerApiFactory ForSqlite() => new(SqliteSettings(TempDirectory.ForRun()));

    public static Dictionary<string, string?> MySqlSettings(string connectionString) => new()
    {
        ["Database:Provider"] = "mysql",
        ["ConnectionStrings:Customers"] = connectionString,
    };

    /// <summary>
    /// A client of the app, as <see cref="WebApplicationFactory{TEntryPoint}.CreateClient()"/> makes it; with the
    /// setting <see cref="OpenApiTrafficLog.SettingKey"/> (the HTTP contract suite sets it) every exchange is also
    /// checked against the OpenAPI document the app serves and recorded in that suite's <see cref="OpenApiTrafficLog"/>.
    /// </summary>
    public new HttpClient CreateClient() =>
        Settings.TryGetValue(OpenApiTrafficLog.SettingKey, out var suite) && !string.IsNullOrEmpty(suite)
            ? CreateDefaultClient(ClientOptions.BaseAddress, new OpenApiConformanceHandler(OpenApiTrafficLog.For(suite)))
            : base.CreateClient();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(Settings));
        builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        configureHost?.Invoke(builder);
    }
}

/// <summary>A temp folder removed on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    private static readonly Lazy<string> RunRoot = new(() =>
    {
        var root = Directory.CreateTempSubdirectory("customer-records-run-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
                // Left for the OS temp cleaner.
            }
        };
        return root;
    });

    public string Path { get; } = Directory.CreateTempSubdirectory("customer-records-test-").FullName;

    /// <summary>A new folder that lives until the test process exits (for tests that cannot dispose one).</summary>
    public static string ForRun() => Directory.CreateDirectory(System.IO.Path.Combine(RunRoot.Value, Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a pooled connection: the OS temp cleaner gets it.
        }
    }
}
