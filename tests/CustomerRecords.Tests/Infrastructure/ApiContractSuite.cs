using System.Data.Common;
using System.Net;
using System.Text.Json.Nodes;
using CustomerRecords.Tests.Docs;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Data.Sqlite;
using MySqlConnector;

namespace CustomerRecords.Tests.Infrastructure;

/// <summary>
/// An HTTP contract suite run by one subclass per engine: each test gets the real app on a brand-new database of
/// that engine (<see cref="NewDatabaseSettingsAsync"/>, usually <see cref="SqliteDatabaseAsync"/> or
/// <see cref="MariaDbDatabaseAsync"/>) and a client whose every exchange is checked against the served OpenAPI
/// document (<see cref="OpenApiConformanceHandler"/>); a test whose traffic departs from the document fails on dispose.
/// </summary>
public abstract class ApiContractSuite : IAsyncLifetime
{
    private SqliteTempDirectory? _sqliteDirectory;
    private Dictionary<string, string?> _settings = null!;

    protected CustomerApiFactory Factory { get; private set; } = null!;

    protected HttpClient Client { get; private set; } = null!;

    /// <summary>The settings the app of this test runs on.</summary>
    protected IReadOnlyDictionary<string, string?> Settings => _settings;

    /// <summary>The suite's name in the OpenAPI conformance log: one per engine.</summary>
    protected string Suite => GetType().Name;

    /// <summary>Settings pointing at a brand-new, empty database of the engine under test.</summary>
    protected abstract Task<Dictionary<string, string?>> NewDatabaseSettingsAsync();

    /// <summary>The suite's own settings, on top of the database's.</summary>
    protected virtual void ConfigureSettings(Dictionary<string, string?> settings)
    {
    }

    /// <summary>Configures the app's host further (log providers, say), after the test defaults.</summary>
    protected virtual void ConfigureHost(IWebHostBuilder builder)
    {
    }

    public virtual async Task InitializeAsync()
    {
        _settings = await NewDatabaseSettingsAsync();
        // Every response of the suite is checked against the served OpenAPI document (Docs/OpenApiConformanceHandler).
        _settings[OpenApiTrafficLog.SettingKey] = Suite;
        ConfigureSettings(_settings);
        Start();
    }

    /// <summary>Stops the app and starts it again on the same settings and database, with a new client.</summary>
    protected async Task RestartAsync()
    {
        Client.Dispose();
        await Factory.DisposeAsync();
        Start();
    }

    private void Start()
    {
        Factory = new CustomerApiFactory(_settings, ConfigureHost);
        Client = Factory.CreateClient();
    }

    public virtual async Task DisposeAsync()
    {
        try
        {
            Client.Dispose();
            await Factory.DisposeAsync();
            var violations = OpenApiTrafficLog.For(Suite).TakeViolations();
            Assert.True(violations.Count == 0, $"{violations.Count} exchanges depart from /openapi/v1.json:\n" + string.Join("\n", violations));
        }
        finally
        {
            _sqliteDirectory?.Dispose();
        }
    }

    /// <summary>A SQLite file of the test's own, in a folder removed when the test is disposed.</summary>
    protected Task<Dictionary<string, string?>> SqliteDatabaseAsync()
    {
        _sqliteDirectory ??= new SqliteTempDirectory();
        return Task.FromResult(CustomerApiFactory.SqliteSettings(_sqliteDirectory.Path));
    }

    /// <summary>A fresh database on the shared MariaDB server; with the three sample customers when <paramref name="seedSampleData"/> (MySQL gets none by default).</summary>
    protected static async Task<Dictionary<string, string?>> MariaDbDatabaseAsync(MariaDbFixture mariaDb, bool seedSampleData)
    {
        var settings = CustomerApiFactory.MySqlSettings(await mariaDb.CreateDatabaseAsync());
        if (seedSampleData)
        {
            settings["Database:SeedSampleData"] = "true";
        }

        return settings;
    }

    /// <summary>A connection, not yet open, straight to the test's database: for what a test reads or writes by SQL.</summary>
    protected DbConnection Connect() => _settings["Database:Provider"] == "mysql"
        ? new MySqlConnection(_settings["ConnectionStrings:Customers"])
        : new SqliteConnection(_settings["ConnectionStrings:Customers"]);

    /// <summary>Another instance of the service on the same database, with <paramref name="extra"/> settings on top.</summary>
    protected CustomerApiFactory SecondInstance(params (string Key, string? Value)[] extra)
    {
        var settings = new Dictionary<string, string?>(_settings);
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return new CustomerApiFactory(settings);
    }

    /// <summary>GETs <paramref name="path"/>, asserts 200 and returns the body.</summary>
    protected async Task<JsonObject> GetObjectAsync(string path)
    {
        var response = await Client.GetAsync(new Uri(path, UriKind.Relative));
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.ReadObjectAsync();
    }

    /// <summary>Asserts a 400 validation problem that names <paramref name="field"/> among its errors.</summary>
    protected static async Task AssertValidationAsync(HttpResponseMessage response, string field)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ReadObjectAsync();
        Assert.Equal("urn:customer-records:problem:validation", (string?)problem["type"]);
        Assert.NotNull(problem["errors"]?[field]);
    }
}
