using System.ComponentModel.DataAnnotations;

namespace CustomerRecords.Api.Data;

/// <summary>Settings of the <c>Database</c> section.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary><c>sqlite</c> (embedded, the default) or <c>mysql</c> (MySQL 8, MariaDB 10.11+, Aurora MySQL). Setting <c>DB_HOST</c> implies <c>mysql</c>.</summary>
    [Required]
    public string Provider { get; set; } = "sqlite";

    /// <summary>Insert the three sample customers when this start creates the schema.</summary>
    public bool SeedSampleData { get; set; } = true;

    /// <summary>Apply pending schema migrations at start-up (the <c>migrate</c> command always does).</summary>
    public bool MigrateOnStartup { get; set; } = true;

    /// <summary>Seconds the migration waits for another instance that is migrating the same database.</summary>
    [Range(1, 3600)]
    public int MigrationLockTimeoutSeconds { get; set; } = 60;
}
