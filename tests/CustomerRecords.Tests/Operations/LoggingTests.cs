using System.Collections.Concurrent;
using CustomerRecords.Tests.Infrastructure;
using CustomerRecords.Tests.Redaction;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Tests.Operations;

public class LoggingTests
{
    [Fact]
    public async Task RequestLogNamesTheRouteTemplateAndNeverTheQueryString()
    {
        var sink = new CapturingLoggerProvider();
        await using var factory = CustomerRecords.Tests.Infrastructure.CustomerApiFactory.ForSqlite()
            .WithWebHostBuilder(b => b.ConfigureLogging(l => l.AddProvider(sink)));
        using var client = factory.CreateClient();

        (await client.GetAsync(new Uri("/customers?email=jane.doe%40example.com&q=5550100", UriKind.Relative))).EnsureSuccessStatusCode();

        var requestLine = Assert.Single(sink.Entries, e => e.EventId == 9001);
        Assert.Equal("HTTP GET /customers/ responded 200", requestLine.Message[..requestLine.Message.IndexOf(" in ", StringComparison.Ordinal)]);
        Assert.DoesNotContain(sink.Entries, e => e.Message.Contains("jane.doe", StringComparison.OrdinalIgnoreCase)
            || e.Message.Contains("5550100", StringComparison.Ordinal));
    }

    [Fact]
    public async Task APhoneSearchLeavesNeitherThePhoneNorItsDigitsInTheLogs()
    {
        var sink = new CapturingLoggerProvider();
        await using var factory = CustomerRecords.Tests.Infrastructure.CustomerApiFactory.ForSqlite()
            .WithWebHostBuilder(b => b.ConfigureLogging(l => l.AddProvider(sink)));
        using var client = factory.CreateClient();

        (await client.GetAsync(new Uri("/customers?phone=%2B1%20(555)%20010-2468", UriKind.Relative))).EnsureSuccessStatusCode();
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, (await client.GetAsync(new Uri("/customers?phone=555x0102468", UriKind.Relative))).StatusCode);

        Assert.Equal(2, sink.Entries.Count(e => e.EventId == 9001));
        Assert.DoesNotContain(sink.Entries, e => e.Message.Contains("2468", StringComparison.Ordinal) || e.Message.Contains("phone=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ProductionLogsAreJsonLinesWithScopesSoTraceIdsAppear()
    {
        await using var factory = CustomerRecords.Tests.Infrastructure.CustomerApiFactory.ForSqlite()
            .WithWebHostBuilder(b => b.UseEnvironment("Production"));
        _ = factory.Server;

        Assert.Equal(ConsoleFormatterNames.Json, factory.Services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue.FormatterName);
        Assert.True(factory.Services.GetRequiredService<IOptionsMonitor<JsonConsoleFormatterOptions>>().CurrentValue.IncludeScopes);
        var tracking = factory.Services.GetRequiredService<IOptions<LoggerFactoryOptions>>().Value.ActivityTrackingOptions;
        Assert.True(tracking.HasFlag(ActivityTrackingOptions.TraceId) && tracking.HasFlag(ActivityTrackingOptions.SpanId));
    }

    [Fact]
    public async Task ConsoleFormatterCanBeChosenByConfiguration()
    {
        await using var factory = CustomerRecords.Tests.Infrastructure.CustomerApiFactory.ForSqlite()
            .WithWebHostBuilder(b => b.UseEnvironment("Production").UseSetting("Logging:Console:FormatterName", "simple"));
        _ = factory.Server;

        Assert.Equal(ConsoleFormatterNames.Simple, factory.Services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue.FormatterName);
    }

    private sealed record Entry(string Category, int EventId, string Message);

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        private readonly ConcurrentQueue<Entry> _entries = new();

        public IReadOnlyCollection<Entry> Entries => _entries.ToArray();

        public ILogger CreateLogger(string categoryName) => new CapturingLogger(categoryName, _entries);

        public void Dispose()
        {
        }

        private sealed class CapturingLogger(string category, ConcurrentQueue<Entry> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
                => entries.Enqueue(new Entry(category, eventId.Id, formatter(state, exception)));
        }
    }
}
