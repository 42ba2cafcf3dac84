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

    /// <summary>
    /// How long a request's connection attempts keep retrying while the database does not answer them at all (connect
    /// timeout, connection refused, a handshake that never completes): an Aurora Serverless v2 cluster resuming from
    /// auto-pause takes about 15 s, longer after a day paused. Requests wait (queue) within it instead of failing at
    /// once; past it they get 503 + Retry-After. Reads and writes alike: a write whose connection never opened sent
    /// nothing. It counts before <see cref="OperationTimeout"/>, which starts once a connection is open, and must be
    /// shorter than <c>Limits:RequestTimeout</c> so the client gets the 503 rather than the request timeout's 504.
    /// A database that answers and fails (refuses the login, errors, times out a query) fails fast as before. 0 = no waiting.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan ResumeTimeout { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>
    /// This region's database is a read-only secondary (an Aurora Global Database secondary cluster): reads are served,
    /// every write is answered 503 <c>read-only-region</c> without touching the database, background writers and
    /// migrations do not run, and start-up checks the schema version instead of migrating.
    /// </summary>
    public bool ReadOnly { get; set; }

    /// <summary>
    /// Aurora write forwarding on a secondary cluster: <c>none</c> (the default), <c>eventual</c>, <c>session</c> or
    /// <c>global</c>. Any value but <c>none</c> sets <c>aurora_replica_read_consistency</c> to it on every new (or reset)
    /// connection and lets writes through even with <see cref="ReadOnly"/>, for Aurora to forward to the primary region.
    /// MySQL provider only.
    /// </summary>
    [RegularExpression("^(?i:none|eventual|session|global)$", ErrorMessage = "Database:WriteForwarding must be none, eventual, session or global.")]
    public string WriteForwarding { get; set; } = "none";

    /// <summary>Whether <see cref="WriteForwarding"/> is on.</summary>
    internal bool ForwardsWrites => !string.Equals(WriteForwarding, "none", StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether this instance may write: not a read-only region, or one that forwards writes.</summary>
    internal bool WritesAllowed => !ReadOnly || ForwardsWrites;

    /// <summary>The session variable write forwarding sets; a test against MariaDB substitutes a user variable.</summary>
    internal string ReadConsistencyVariable { get; set; } = "aurora_replica_read_consistency";

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
