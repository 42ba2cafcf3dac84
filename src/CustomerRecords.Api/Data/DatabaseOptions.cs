using System.ComponentModel.DataAnnotations;

namespace CustomerRecords.Api.Data;

/// <summary>Settings of the <c>Database</c> section.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary><c>sqlite</c> (embedded, the default) or <c>mysql</c> (MySQL 8, MariaDB 10.11+, Aurora MySQL). Setting <c>DB_HOST</c> implies <c>mysql</c>.</summary>
    [Required]
    public string Provider { get; set; } = "sqlite";

    /// <summary>
    /// Insert the three sample customers when this start creates the schema. Unset: only on the embedded SQLite
    /// default or in Development — never by default against MySQL, so a first <c>migrate</c> against RDS adds no one.
    /// </summary>
    public bool? SeedSampleData { get; set; }

    /// <summary>Apply pending schema migrations at start-up (the <c>migrate</c> command always does).</summary>
    public bool MigrateOnStartup { get; set; } = true;

    /// <summary>Seconds the migration waits for another instance that is migrating the same database.</summary>
    [Range(1, 3600)]
    public int MigrationLockTimeoutSeconds { get; set; } = 60;

    /// <summary>
    /// How long start-up (the migrations and their first connection, also under the <c>migrate</c> command) waits for a
    /// database that does not answer yet, retrying with backoff: an Aurora Serverless cluster resuming from a pause or an
    /// RDS instance rebooting takes about a minute. A database that answers and refuses (wrong password, no such database)
    /// fails at once. 0 tries once.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan StartupTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Total time one database operation may take, retries included; past it the request gets 503 + Retry-After.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Retries of an operation after a passing fault (0 disables retrying). Writes retry only when nothing was applied.</summary>
    [Range(0, 10)]
    public int MaxRetries { get; set; } = 3;

    /// <summary>For this long after this instance writes a customer, reads of that customer go to the writer, not the replica.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan ReadYourWritesWindow { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long an <c>Idempotency-Key</c>'s answer is kept and replayed.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan IdempotencyKeyLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>After the replica fails, reads go to the writer for this long before the replica is tried again.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan ReplicaRetryAfter { get; set; } = TimeSpan.FromSeconds(10);
}
