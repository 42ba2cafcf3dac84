namespace CustomerRecords.Tests.Infrastructure;

/// <summary>
/// Finds the server executables installed by <c>scripts/install-test-deps.sh</c>. A missing binary
/// is an error, never a skipped test: a green run must mean the servers were really exercised.
/// </summary>
public static class ServerBinaries
{
    public const string InstallHint =
        "Run 'sudo scripts/install-test-deps.sh' (apt-get install mariadb-server redis-server memcached)";

    // Debian puts mariadbd in /usr/sbin, which is not on PATH for non-root users.
    private static readonly string[] WellKnownDirectories = ["/usr/sbin", "/usr/bin"];

    private static readonly Lazy<string> MariaDbServerPath = new(() => Locate("mariadbd", "mysqld"));
    private static readonly Lazy<string> MariaDbInstallDbPath = new(() => Locate("mariadb-install-db", "mysql_install_db"));
    private static readonly Lazy<string> RedisServerPath = new(() => Locate("redis-server"));
    private static readonly Lazy<string> MemcachedPath = new(() => Locate("memcached"));

    public static string MariaDbServer => MariaDbServerPath.Value;

    public static string MariaDbInstallDb => MariaDbInstallDbPath.Value;

    public static string RedisServer => RedisServerPath.Value;

    public static string Memcached => MemcachedPath.Value;

    /// <summary>Returns the first executable among <paramref name="names"/> (in order of preference).</summary>
    /// <exception cref="InvalidOperationException">None was found; the message says how to install it.</exception>
    public static string Locate(params string[] names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var pathDirectories = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        var directories = WellKnownDirectories.Concat(pathDirectories).Distinct(StringComparer.Ordinal).ToArray();

        foreach (var name in names)
        {
            foreach (var directory in directories)
            {
                var candidate = Path.Combine(directory, name);
                if (IsExecutable(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new InvalidOperationException(
            $"{string.Join(" or ", names)} was not found in {string.Join(", ", WellKnownDirectories)} or PATH. {InstallHint}.");
    }

    private static bool IsExecutable(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        if (OperatingSystem.IsWindows())
        {
            return true;
        }

        const UnixFileMode anyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        return (File.GetUnixFileMode(path) & anyExecute) != 0;
    }
}
