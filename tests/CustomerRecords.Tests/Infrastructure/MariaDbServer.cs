using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using MySqlConnector;

namespace CustomerRecords.Tests.Infrastructure;

/// <summary>
/// A real MariaDB server run as a child process on a free loopback port, with its own data
/// directory under the temp folder. Meant for tests that need what SQLite cannot give:
/// MySQL dialect, real users and grants, crash recovery after kill -9, and replication.
/// </summary>
public sealed partial class MariaDbServer : ChildServer
{
    private const string PasswordAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private const int StartAttempts = 3;
    private static int s_lastServerId;

    // Small enough that a handful of servers fit on a 2-core CI box. Durability settings
    // (innodb_flush_log_at_trx_commit=1) stay at their defaults: tests kill -9 these servers.
    internal static readonly string[] MemoryArguments =
    [
        "--innodb-buffer-pool-size=32M",
        "--innodb-log-file-size=16M",
        "--innodb-log-buffer-size=4M",
        "--key-buffer-size=1M",
        "--aria-pagecache-buffer-size=8M",
    ];

    private readonly string _rootPassword;
    private readonly Lazy<Task<(string User, string Password)>> _replicationUser;

    private MariaDbServer(MariaDbServerOptions options, string workDirectory, string rootPassword)
        : base(workDirectory)
    {
        Options = options;
        _rootPassword = rootPassword;
        ServerId = options.ServerId ?? Interlocked.Increment(ref s_lastServerId);
        _replicationUser = new(CreateReplicationUserAsync);
    }

    public MariaDbServerOptions Options { get; }

    public int ServerId { get; }


    public string DataDirectory => Path.Combine(WorkDirectory, "data");

    public string ErrorLogPath => Path.Combine(WorkDirectory, "error.log");

    public bool HasSsl => Options.SslCertPath is not null;

    /// <summary>
    /// root over TCP. Pooling is off because tests kill and restart the server, and a pooled
    /// admin connection would then fail on its next use.
    /// </summary>
    public string RootConnectionString => new MySqlConnectionStringBuilder(BaseConnectionString())
    {
        UserID = "root",
        Password = _rootPassword,
        Pooling = false,
    }.ConnectionString;

    private string SocketPath => Path.Combine(WorkDirectory, "mysqld.sock");

    public static async Task<MariaDbServer> StartAsync(MariaDbServerOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new MariaDbServerOptions();
        if (options.SslCertPath is null != (options.SslKeyPath is null))
        {
            throw new ArgumentException("SslCertPath and SslKeyPath must be given together.", nameof(options));
        }

        // Fail before creating anything when the binaries are missing.
        _ = ServerBinaries.MariaDbServer;
        var template = await MariaDbTemplate.GetAsync(cancellationToken);

        var server = new MariaDbServer(options, TestDirectory.Create("mariadb"), template.RootPassword);
        try
        {
            await Task.Run(() => MariaDbTemplate.CopyDirectory(template.DataDirectory, server.DataDirectory), cancellationToken);
            await server.StartOnFreePortAsync(cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Creates a fresh database and a user that may do anything in it (and nothing elsewhere).
    /// </summary>
    /// <returns>A MySqlConnector connection string for that user and database.</returns>
    public async Task<string> CreateDatabaseAsync(string? name = null, CancellationToken cancellationToken = default)
    {
        name ??= "test_" + RandomNumberGenerator.GetHexString(12, lowercase: true);
        if (!IdentifierPattern().IsMatch(name))
        {
            throw new ArgumentException("Database names are limited to 1-64 letters, digits and underscores.", nameof(name));
        }

        var user = "u" + RandomNumberGenerator.GetHexString(12, lowercase: true);
        var password = NewPassword();
        await ExecuteAsync(
            $"""
            CREATE DATABASE `{name}`;
            CREATE USER '{user}'@'%' IDENTIFIED BY '{password}';
            GRANT ALL PRIVILEGES ON `{name}`.* TO '{user}'@'%';
            """,
            cancellationToken);

        return new MySqlConnectionStringBuilder(BaseConnectionString())
        {
            Database = name,
            UserID = user,
            Password = password,
        }.ConnectionString;
    }

    /// <summary>
    /// The same database and credentials on this server, e.g. to read on a replica what a
    /// connection string from the primary's <see cref="CreateDatabaseAsync"/> wrote.
    /// </summary>
    public string RetargetConnectionString(string connectionString) =>
        new MySqlConnectionStringBuilder(connectionString)
        {
            Server = Host,
            Port = (uint)Port,
            SslMode = HasSsl ? MySqlSslMode.Preferred : MySqlSslMode.None,
        }.ConnectionString;

    /// <summary>Runs one or more statements as root.</summary>
    public async Task ExecuteAsync(string sql, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenRootConnectionAsync(cancellationToken);
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Runs a query as root and returns the first column of the first row (default for NULL or no row).</summary>
    public async Task<T?> ExecuteScalarAsync<T>(string sql, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenRootConnectionAsync(cancellationToken);
        await using var command = new MySqlCommand(sql, connection);
        var result = await command.ExecuteScalarAsync(cancellationToken);
        return result is null or DBNull
            ? default
            : (T)Convert.ChangeType(result, typeof(T), CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Makes this server a GTID replica of <paramref name="primary"/> (which needs
    /// <see cref="MariaDbServerOptions.EnableBinlog"/>) and starts replicating from the primary's
    /// first binlog event, so everything the primary has done so far arrives here too.
    /// </summary>
    public async Task ConfigureAsReplicaOfAsync(MariaDbServer primary, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(primary);
        if (!primary.Options.EnableBinlog)
        {
            throw new ArgumentException("The primary must be started with EnableBinlog = true.", nameof(primary));
        }

        if (primary.ServerId == ServerId)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"Primary and replica both have server_id {ServerId}; replication needs distinct ids."),
                nameof(primary));
        }

        var (user, password) = await primary._replicationUser.Value;

        // MASTER_CONNECT_RETRY=1: after a primary restart the replica reconnects within a
        // second instead of the default minute, which tests would otherwise wait out.
        await ExecuteAsync(
            string.Create(
                CultureInfo.InvariantCulture,
                $"""
                CHANGE MASTER TO MASTER_HOST='{primary.Host}', MASTER_PORT={primary.Port},
                  MASTER_USER='{user}', MASTER_PASSWORD='{password}',
                  MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1;
                START SLAVE;
                """),
            cancellationToken);
    }

    public Task StopReplicationAsync(CancellationToken cancellationToken = default) =>
        ExecuteAsync("STOP SLAVE", cancellationToken);

    public Task StartReplicationAsync(CancellationToken cancellationToken = default) =>
        ExecuteAsync("START SLAVE", cancellationToken);

    /// <summary>
    /// Waits until this replica has applied everything in the primary's binlog as of now
    /// (<c>@@gtid_binlog_pos</c> on the primary, reached by <c>@@gtid_slave_pos</c> here).
    /// </summary>
    /// <exception cref="TimeoutException">Not caught up in time; the message has the replica's status.</exception>
    public async Task WaitForReplicationCatchUpAsync(MariaDbServer primary, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(primary);
        var target = await primary.ExecuteScalarAsync<string>("SELECT @@GLOBAL.gtid_binlog_pos", cancellationToken) ?? string.Empty;

        // MASTER_GTID_WAIT blocks server-side until gtid_slave_pos covers the target in every
        // replication domain, which is what comparing the two position strings by hand would do.
        int result;
        await using (var connection = await OpenRootConnectionAsync(cancellationToken))
        await using (var command = new MySqlCommand("SELECT MASTER_GTID_WAIT(@target, @seconds)", connection))
        {
            command.CommandTimeout = (int)Math.Ceiling(timeout.TotalSeconds) + 10;
            command.Parameters.AddWithValue("@target", target);
            command.Parameters.AddWithValue("@seconds", timeout.TotalSeconds);
            result = Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        }

        if (result != 0)
        {
            var replicaPosition = await ExecuteScalarAsync<string>("SELECT @@GLOBAL.gtid_slave_pos", cancellationToken);
            throw new TimeoutException(
                $"Replica on port {Port} did not reach the primary's gtid_binlog_pos '{target}' within {timeout} " +
                $"(gtid_slave_pos '{replicaPosition}'). {await DescribeReplicationAsync(cancellationToken)}");
        }
    }

    internal static string NewPassword() => RandomNumberGenerator.GetString(PasswordAlphabet, 24);

    [GeneratedRegex("^[A-Za-z0-9_]{1,64}$")]
    private static partial Regex IdentifierPattern();

    private string BaseConnectionString() => new MySqlConnectionStringBuilder
    {
        Server = Host,
        Port = (uint)Port,
        SslMode = HasSsl ? MySqlSslMode.Preferred : MySqlSslMode.None,
    }.ConnectionString;

    private async Task<MySqlConnection> OpenRootConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = new MySqlConnection(RootConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private async Task StartOnFreePortAsync(CancellationToken cancellationToken)
    {
        // FreePort's port can be taken by someone else before mariadbd binds it; then mariadbd
        // exits at once with "Address already in use" and another port is worth a try.
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort.Get();
            if (await LaunchAsync(cancellationToken))
            {
                return;
            }

            var log = TestDirectory.Tail(ErrorLogPath);
            if (attempt == StartAttempts || !log.Contains("Address already in use", StringComparison.Ordinal))
            {
                throw new InvalidOperationException(
                    string.Create(CultureInfo.InvariantCulture, $"mariadbd exited while starting on port {Port}. Error log tail:{Environment.NewLine}") + log);
            }
        }
    }

    /// <returns>True once the server accepts root logins; false if the process exited first.</returns>
    protected override string ProgramName => "mariadbd";

    protected override string DiagnosticLogPath => ErrorLogPath;

    protected override async Task<bool> LaunchAsync(CancellationToken cancellationToken)
    {
        var process = ServerProcess.Start(
            ServerBinaries.MariaDbServer, ServerArguments(), Path.Combine(WorkDirectory, "mariadbd.out.log"), WorkDirectory);
        Attach(process);
        try
        {
            if (await WaitUntilReadyAsync(process, cancellationToken))
            {
                return true;
            }
        }
        catch
        {
            await KillAsync();
            throw;
        }

        await KillAsync();
        return false;
    }

    private async Task<bool> WaitUntilReadyAsync(ServerProcess process, CancellationToken cancellationToken)
    {
        var probe = new MySqlConnectionStringBuilder(RootConnectionString) { ConnectionTimeout = 2 }.ConnectionString;
        var deadline = DateTime.UtcNow + Options.StartupTimeout;
        Exception? lastError = null;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                return false;
            }

            try
            {
                await using var connection = new MySqlConnection(probe);
                await connection.OpenAsync(cancellationToken);
                return true;
            }
            catch (MySqlException e)
            {
                lastError = e;
            }

            await Task.Delay(50, cancellationToken);
        }

        throw new TimeoutException(
            $"mariadbd did not accept connections on port {Port} within {Options.StartupTimeout} " +
            $"(last error: {lastError?.Message}). Error log tail:{Environment.NewLine}{TestDirectory.Tail(ErrorLogPath)}");
    }

    private List<string> ServerArguments()
    {
        // --no-defaults must come first; it keeps /etc/mysql (a system server's socket, port
        // and settings) out of the picture. utf8mb4 matches Debian's packaged server config,
        // which --no-defaults would otherwise drop in favour of latin1.
        List<string> arguments =
        [
            "--no-defaults",
            $"--datadir={DataDirectory}",
            $"--tmpdir={WorkDirectory}",
            $"--socket={SocketPath}",
            $"--pid-file={Path.Combine(WorkDirectory, "mysqld.pid")}",
            $"--log-error={ErrorLogPath}",
            "--bind-address=127.0.0.1",
            string.Create(CultureInfo.InvariantCulture, $"--port={Port}"),
            string.Create(CultureInfo.InvariantCulture, $"--server-id={ServerId}"),
            "--skip-name-resolve",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_general_ci",
            "--performance-schema=OFF",
            "--innodb-buffer-pool-dump-at-shutdown=OFF",
            "--innodb-buffer-pool-load-at-startup=OFF",
            // The default relay log name contains the hostname, which would break a restart on
            // a renamed host; a fixed name keeps replicas restartable.
            "--relay-log=relay-bin",
            .. MemoryArguments,
        ];

        if (Libc.IsRoot)
        {
            // mariadbd refuses to run as root unless told to explicitly.
            arguments.Add("--user=root");
        }

        if (Options.EnableBinlog)
        {
            arguments.AddRange(["--log-bin=mysql-bin", "--log-slave-updates", "--binlog-format=ROW"]);
        }

        if (Options.ReadOnly)
        {
            arguments.Add("--read-only");
        }

        if (Options.SslCertPath is not null)
        {
            arguments.Add($"--ssl-cert={Options.SslCertPath}");
        }

        if (Options.SslKeyPath is not null)
        {
            arguments.Add($"--ssl-key={Options.SslKeyPath}");
        }

        if (Options.SslCaPath is not null)
        {
            arguments.Add($"--ssl-ca={Options.SslCaPath}");
        }

        arguments.AddRange(Options.ExtraArgs);
        return arguments;
    }

    private async Task<(string User, string Password)> CreateReplicationUserAsync()
    {
        var user = "repl" + RandomNumberGenerator.GetHexString(8, lowercase: true);
        var password = NewPassword();
        await ExecuteAsync(
            $"""
            CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY '{password}';
            GRANT REPLICATION SLAVE ON *.* TO '{user}'@'127.0.0.1';
            """);
        return (user, password);
    }

    private async Task<string> DescribeReplicationAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenRootConnectionAsync(cancellationToken);
        await using var command = new MySqlCommand("SHOW SLAVE STATUS", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return "The server is not configured as a replica.";
        }

        string Column(string name) => reader[name]?.ToString() ?? string.Empty;
        return $"Slave_IO_Running={Column("Slave_IO_Running")}, Slave_SQL_Running={Column("Slave_SQL_Running")}, " +
               $"Last_IO_Error='{Column("Last_IO_Error")}', Last_SQL_Error='{Column("Last_SQL_Error")}'.";
    }
}
