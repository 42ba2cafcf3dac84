namespace CustomerRecords.Tests.Infrastructure;

/// <summary>How <see cref="MariaDbServer.StartAsync"/> configures a server.</summary>
public sealed class MariaDbServerOptions
{
    /// <summary><c>server_id</c>; null picks one that is unique within this test process, as replication requires.</summary>
    public int? ServerId { get; init; }

    /// <summary>Writes a ROW-format binlog (with <c>log_slave_updates</c>) so the server can be a GTID primary.</summary>
    public bool EnableBinlog { get; init; }

    /// <summary>Starts with <c>read_only</c>, as a replica would run in production.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>PEM certificate for <c>--ssl-cert</c>. With it, connection strings use TLS (SslMode=Preferred).</summary>
    public string? SslCertPath { get; init; }

    /// <summary>PEM private key for <c>--ssl-key</c>.</summary>
    public string? SslKeyPath { get; init; }

    /// <summary>PEM CA certificate for <c>--ssl-ca</c>.</summary>
    public string? SslCaPath { get; init; }

    /// <summary>
    /// Appended last to the mariadbd command line, so they override the defaults. They do not
    /// reach initialisation: every server's data directory is a copy of one made with the
    /// defaults, so settings fixed at that point (innodb_page_size, lower_case_table_names)
    /// cannot be changed here.
    /// </summary>
    public IReadOnlyList<string> ExtraArgs { get; init; } = [];

    /// <summary>How long a start may take before it fails with the error log's tail.</summary>
    public TimeSpan StartupTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
