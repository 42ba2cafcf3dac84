using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using CustomerRecords.Api.History;
using CustomerRecords.Tests.Caching;
using CustomerRecords.Tests.Infrastructure;
using MySqlConnector;

namespace CustomerRecords.Tests.History;

/// <summary>
/// The background sequencer leaves an idle database alone (an Aurora Serverless database pauses only if nothing
/// queries it), and numbers a change made on this instance at its next tick.
/// </summary>
[Collection(MariaDbCollection.Name)]
public sealed class IdleSequencerTests(MariaDbFixture mariaDb)
{
    [Fact]
    public async Task WithoutChangesTheSequencerSendsNothingAndAfterAChangeItNumbersIt()
    {
        var connectionString = await mariaDb.CreateDatabaseAsync();
        var database = new MySqlConnectionStringBuilder(connectionString).Database;
        var statements = new ConcurrentQueue<string>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "MySqlConnector",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (Equals(activity.GetTagItem("db.name"), database) && activity.GetTagItem("db.statement") is string sql
                    && sql.StartsWith(FeedSequencer.Tag, StringComparison.Ordinal))
                {
                    statements.Enqueue(sql);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        var settings = CustomerApiFactory.MySqlSettings(connectionString);
        settings["History:SequenceInterval"] = "00:00:00.100";
        await using var factory = new CustomerApiFactory(settings);
        using var client = factory.CreateClient();

        await Task.Delay(TimeSpan.FromMilliseconds(600)); // the first tick runs whatever happened before
        statements.Clear();
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // ~15 ticks with no change
        Assert.Empty(statements);

        using var created = await client.PostAsync(new Uri("/customers", UriKind.Relative), Json.Body(new { name = "Idle Ida", email = Json.UniqueEmail("idle") }));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await Eventually.WithinAsync(TimeSpan.FromSeconds(10), "the new event gets its feed position from the background sequencer", async () =>
        {
            await using var connection = new MySqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new MySqlCommand("SELECT COUNT(*) FROM customer_events WHERE position IS NULL", connection);
            return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture) == 0;
        }, TimeSpan.FromMilliseconds(100));
        Assert.NotEmpty(statements);
    }
}
