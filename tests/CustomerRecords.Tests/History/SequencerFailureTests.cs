using System.Net;
using CustomerRecords.Api.Data;
using CustomerRecords.Tests.Caching;
using CustomerRecords.Tests.Infrastructure;
using CustomerRecords.Tests.Redaction;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CustomerRecords.Tests.History;

/// <summary>A sequencer that cannot do its work logs it by event id, without personal data, and the service stays up.</summary>
public sealed class SequencerFailureTests
{
    [Fact]
    public async Task AFailingSequencerLogsAWarningAndNeverStopsTheHost()
    {
        var settings = CustomerApiFactory.SqliteSettings(TempDirectory.ForRun());
        settings["History:SequenceInterval"] = "00:00:00.050";
        var logs = new LogCapture();
        await using var factory = new CustomerApiFactory(settings);
        await using var logged = factory.WithWebHostBuilder(b => b.ConfigureLogging(l => l.AddProvider(logs)));
        using var client = logged.CreateClient();
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("/customers", Json.Body(new { name = "Pending Event", email = "pending.event@example.com" }))).StatusCode);

        // The sequencer's lock row is gone (a broken restore, say): every attempt fails.
        await using (var connection = await logged.Services.GetRequiredService<AppDatabase>().Writer.OpenConnectionAsync())
        {
            await using var drop = connection.CreateCommand();
            drop.CommandText = "DROP TABLE feed_state";
            await drop.ExecuteNonQueryAsync();
        }

        Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("/customers", Json.Body(new { name = "Another One", email = "another.one@example.com" }))).StatusCode);
        await Eventually.WithinAsync(TimeSpan.FromSeconds(10), "the failure is logged", () =>
            Task.FromResult(logs.Entries.Count(e => e.EventId.Id == 1700 && e.Level == LogLevel.Warning) >= 2), TimeSpan.FromMilliseconds(50));

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/customers/1")).StatusCode);
        var feed = await client.GetAsync("/changes");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, feed.StatusCode);
        var text = string.Join('\n', logs.Entries.Where(e => e.EventId.Id == 1700).Select(e => e.Text));
        Assert.DoesNotContain("example.com", text, StringComparison.Ordinal);
        Assert.DoesNotContain("feed_state", text, StringComparison.Ordinal);
    }
}
