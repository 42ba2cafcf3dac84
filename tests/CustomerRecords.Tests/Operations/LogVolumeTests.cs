using System.Net;
using System.Text;
using CustomerRecords.Api.Data;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace CustomerRecords.Tests.Operations;

/// <summary>
/// The README promises one line per request: the service's own request log, plus real events
/// (warnings, errors, state changes). Library chatter (FusionCache's per-call lines, routing and
/// result lines) would multiply log cost per request. Measured in the bytes the console would
/// write, through the app's own configured formatter (JSON in Production).
/// </summary>
public sealed class LogVolumeTests(ITestOutputHelper output)
{
    private const int Rounds = 40; // five requests each

    // Start-up lines besides one per migration applied (database, sample rows, warnings about the open test setup).
    private const int StartAllowance = 8;

    // Lines during traffic besides one per request: a few events (e.g. the cursor key warning on the first list).
    private const int TrafficAllowance = 5;

    private static readonly string[] Libraries = ["ZiggyCreatures.Caching.Fusion", "Microsoft.AspNetCore", "MySqlConnector", "StackExchange.Redis"];

    [Theory]
    [InlineData("Production")]
    [InlineData("Development")]
    public async Task AboutOneLogLinePerRequest(string environment)
    {
        var capture = new FormattedCapture();
        await using var factory = CustomerApiFactory.ForSqlite().WithWebHostBuilder(b => b
            .UseEnvironment(environment)
            .UseSetting("RateLimit:Enabled", "false")
            .ConfigureLogging(l => l.Services.AddSingleton<ILoggerProvider>(sp => capture.Attach(sp))));
        using var client = factory.CreateClient();
        var atStart = capture.Snapshot();

        var requests = 0;
        for (var i = 0; i < Rounds; i++)
        {
            using var created = await client.PostAsync(new Uri("/customers", UriKind.Relative), Json.Body(new { name = "Volume", email = Json.UniqueEmail("volume") }));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var location = created.Headers.Location!;
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(location)).StatusCode); // hit: the create wrote through
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(new Uri($"/customers/{900_000 + i}", UriKind.Relative))).StatusCode); // miss
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/customers?limit=5", UriKind.Relative))).StatusCode);
            using var patch = new HttpRequestMessage(HttpMethod.Patch, location) { Content = Json.Body(new { name = "Patched" }, "application/merge-patch+json") };
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(patch)).StatusCode);
            requests += 5;
        }

        // The request log is written as the pipeline unwinds, which can trail the response the client sees.
        for (var wait = 0; wait < 50 && capture.Snapshot().Entries.Count(e => e.EventId == 9001) < requests; wait++)
        {
            await Task.Delay(100);
        }

        var all = capture.Snapshot();
        var traffic = all.Entries.Skip(atStart.Entries.Count).ToArray();
        var trafficBytes = all.Bytes - atStart.Bytes;
        output.WriteLine($"{environment}: {requests} requests; {traffic.Length} log lines during traffic ({(double)traffic.Length / requests:F2} per request), "
            + $"{trafficBytes} bytes ({(double)trafficBytes / requests:F0} bytes per request, formatter '{capture.FormatterName}'); {atStart.Entries.Count} lines at start-up");
        foreach (var group in traffic.GroupBy(e => (e.Category, e.Level)).OrderByDescending(g => g.Count()))
        {
            output.WriteLine($"  {group.Count(),5} x {group.Key.Level} {group.Key.Category}");
        }

        Assert.Equal(requests, traffic.Count(e => e.EventId == 9001));
        Assert.True(traffic.Length <= requests + TrafficAllowance, $"{traffic.Length} log lines for {requests} requests");
        var migrations = Migrator.LoadScripts(SqlDialect.Sqlite).Count;
        Assert.True(atStart.Entries.Count <= migrations + StartAllowance, $"{atStart.Entries.Count} log lines at start-up ({migrations} migrations)");
        Assert.DoesNotContain(all.Entries, e => e.Level < LogLevel.Warning && Libraries.Any(l => e.Category.StartsWith(l, StringComparison.Ordinal)));
    }

    private sealed record Entry(string Category, LogLevel Level, int EventId);

    private sealed record Captured(IReadOnlyList<Entry> Entries, long Bytes);

    /// <summary>
    /// A console stand-in: formats every entry with the formatter the app configured for its console
    /// (name, options and scopes included) into memory, so lines and bytes are what the console would write.
    /// </summary>
    private sealed class FormattedCapture : ILoggerProvider, ISupportExternalScope
    {
        private readonly Lock _gate = new();
        private readonly List<Entry> _entries = [];
        private readonly StringWriter _text = new();
        private Lazy<ConsoleFormatter>? _formatter;
        private long _bytes;
        private IExternalScopeProvider? _scopes;

        public string FormatterName => Formatter.Name;

        private ConsoleFormatter Formatter => (_formatter ?? throw new InvalidOperationException("Not attached to the app's services.")).Value;

        /// <summary>Called by the app's container as it builds its logger factory; the formatter is resolved at the first line.</summary>
        public FormattedCapture Attach(IServiceProvider services)
        {
            _formatter = new(() =>
            {
                var name = services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue.FormatterName;
                return services.GetServices<ConsoleFormatter>().Single(f => f.Name == name);
            });
            return this;
        }

        public Captured Snapshot()
        {
            lock (_gate)
            {
                return new Captured(_entries.ToArray(), _bytes);
            }
        }

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose() => _text.Dispose();

        private void Write<TState>(string category, LogLevel level, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var entry = new LogEntry<TState>(level, category, eventId, state, exception, formatter);
            lock (_gate)
            {
                var sb = _text.GetStringBuilder();
                sb.Clear();
                Formatter.Write(in entry, _scopes, _text);
                if (sb.Length == 0)
                {
                    return; // the formatter wrote nothing: no line
                }

                _bytes += Encoding.UTF8.GetByteCount(sb.ToString());
                _entries.Add(new Entry(category, level, eventId.Id));
            }
        }

        private sealed class Logger(FormattedCapture owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes?.Push(state);

            public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Write(category, logLevel, eventId, state, exception, formatter);
        }
    }
}
