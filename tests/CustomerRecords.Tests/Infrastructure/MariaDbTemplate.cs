using System.Globalization;
using System.Security.Cryptography;

namespace CustomerRecords.Tests.Infrastructure;

/// <summary>
/// One initialised data directory per test process, copied for each server. Running
/// mariadb-install-db per server cost 0.6-4.5 s on a disk with slow fsync; copying ~35 MB
/// takes tens of milliseconds. (mariadb-test-run does the same.) The copies share the root
/// password, which is random per test process.
/// </summary>
internal static class MariaDbTemplate
{
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromSeconds(120);
    private static readonly Lazy<Task<Template>> Instance = new(CreateAsync);

    internal sealed record Template(string DataDirectory, string RootPassword);

    public static Task<Template> GetAsync(CancellationToken cancellationToken) =>
        Instance.Value.WaitAsync(cancellationToken);

    public static void CopyDirectory(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.EnumerateFiles(source))
        {
            File.Copy(file, Path.Combine(destination, Path.GetFileName(file)));
        }

        foreach (var directory in Directory.EnumerateDirectories(source))
        {
            CopyDirectory(directory, Path.Combine(destination, Path.GetFileName(directory)));
        }
    }

    private static async Task<Template> CreateAsync()
    {
        var installDb = ServerBinaries.MariaDbInstallDb;
        RemoveOrphanedTemplates();

        // The owner's pid in the name lets a later run remove templates of runs that were killed.
        var workDirectory = Path.Combine(
            Path.GetTempPath(),
            string.Create(CultureInfo.InvariantCulture, $"crtest-template-{Environment.ProcessId}-{RandomNumberGenerator.GetHexString(8, lowercase: true)}"));
        Directory.CreateDirectory(workDirectory);
        ServerProcess.DeleteWhenTestHostExits(workDirectory);
        var dataDirectory = Path.Combine(workDirectory, "data");
        var rootPassword = MariaDbServer.NewPassword();

        // install-db's bootstrap runs with --skip-grant-tables, so plain ALTER USER fails there
        // until FLUSH PRIVILEGES loads the grant tables. Setting root's password here (instead
        // of over the socket after start) means no server ever listens with a passwordless
        // root. The extra root@<hostname> and root@::1 accounts go: nothing here uses them.
        var initSqlPath = Path.Combine(workDirectory, "init.sql");
        await File.WriteAllTextAsync(
            initSqlPath,
            $"""
            DELETE FROM mysql.global_priv WHERE User = 'root' AND Host NOT IN ('localhost', '127.0.0.1');
            DELETE FROM mysql.proxies_priv WHERE Host NOT IN ('localhost', '127.0.0.1');
            FLUSH PRIVILEGES;
            ALTER USER 'root'@'localhost' IDENTIFIED BY '{rootPassword}';
            ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '{rootPassword}';
            """);

        List<string> arguments =
        [
            "--no-defaults",
            $"--datadir={dataDirectory}",
            // Bootstraps running side by side in the shared /tmp clashed over their temporary
            // tables ("Unknown table 'mysql.tmp_user_sys'").
            $"--tmpdir={workDirectory}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--skip-name-resolve",
            $"--extra-file={initSqlPath}",
            // The bootstrap ends with a clean shutdown, so its files are complete without
            // fsync; only the servers copied from it need (and keep) durable commits.
            "--innodb-flush-method=nosync",
            "--innodb-flush-log-at-trx-commit=0",
            "--innodb-doublewrite=0",
            .. MariaDbServer.MemoryArguments,
        ];
        if (Libc.IsRoot)
        {
            arguments.Add("--user=root");
        }

        var logPath = Path.Combine(workDirectory, "install-db.log");
        using var process = ServerProcess.Start(installDb, arguments, logPath, workDirectory);
        using var timeout = new CancellationTokenSource(InstallTimeout);
        int exitCode;
        try
        {
            exitCode = await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException(
                $"mariadb-install-db did not finish within {InstallTimeout}. Output:{Environment.NewLine}{TestDirectory.Tail(logPath)}");
        }

        if (exitCode != 0)
        {
            throw new InvalidOperationException(
                string.Create(CultureInfo.InvariantCulture, $"mariadb-install-db exited with {exitCode}. Output:{Environment.NewLine}") +
                TestDirectory.Tail(logPath));
        }

        return new Template(dataDirectory, rootPassword);
    }

    private static void RemoveOrphanedTemplates()
    {
        foreach (var directory in Directory.EnumerateDirectories(Path.GetTempPath(), "crtest-template-*"))
        {
            var parts = Path.GetFileName(directory).Split('-');
            if (parts.Length != 4 || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var ownerPid)
                || Directory.Exists(string.Create(CultureInfo.InvariantCulture, $"/proc/{ownerPid}")))
            {
                continue;
            }

            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // Another run is removing it too, or it is not ours to remove; either way, move on.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}
