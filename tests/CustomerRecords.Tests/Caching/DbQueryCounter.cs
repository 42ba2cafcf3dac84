using System.Collections.Concurrent;
using System.Diagnostics;
using CustomerRecords.Tests.Data;
using MySqlConnector;

namespace CustomerRecords.Tests.Caching;

/// <summary>
/// Counts the SQL commands run against one database, from the <c>Execute</c> activity MySqlConnector
/// starts for every command (ActivitySource "MySqlConnector", tag <c>db.name</c>). Other tests run in
/// the same process at the same time, each on its own database, so only this database's commands
/// count. Commands the test itself sends through MySqlConnector count too: seed rows before
/// <see cref="Take"/>, not inside a counted window.
/// </summary>
public sealed class DbQueryCounter : IDisposable
{
    private readonly string _database;
    private readonly ActivityListener _listener;
    private readonly ConcurrentQueue<string> _statements = new();

    public DbQueryCounter(string connectionString)
    {
        _database = new MySqlConnectionStringBuilder(connectionString).Database;
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "MySqlConnector",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = OnStopped,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The statements seen since the last call (so a failed assertion shows what ran), and starts counting afresh.</summary>
    public IReadOnlyList<string> Take()
    {
        var taken = new List<string>();
        while (_statements.TryDequeue(out var statement))
        {
            taken.Add(statement);
        }

        return taken;
    }

    public void Dispose() => _listener.Dispose();

    // An activity stops when its command has finished (the reader is disposed), which is before the
    // handler that ran it can answer: a response in hand means its queries are counted.
    private void OnStopped(Activity activity)
    {
        if (activity.OperationName == "Execute" && Equals(activity.GetTagItem("db.name"), _database))
        {
            var statement = activity.GetTagItem("db.statement") as string ?? activity.DisplayName;

            // The change feed's sequencer runs every second on its own, whatever the requests do.
            if (!statement.StartsWith(Api.History.FeedSequencer.Tag, StringComparison.Ordinal))
            {
                _statements.Enqueue(statement);
            }
        }
    }
}
