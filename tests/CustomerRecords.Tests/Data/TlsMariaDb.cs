using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CustomerRecords.Api.Aws;
using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.Data;

/// <summary>
/// A throw-away mariadbd serving TLS with a certificate from a test CA, plus a second, unrelated CA.
/// Private to the security tests until the shared MariaDbServer fixture (branch fixtures) lands.
/// </summary>
public sealed class TlsMariaDb : IAsyncLifetime
{
    public const string AppUser = "tls_app";
    public const string AppPassword = "tls-app-pw";
    public const string IamUser = "iam_app";

    /// <summary>Fixed inputs from which the IAM user's password (an RDS token) is made.</summary>
    public static readonly AwsCredentials IamCredentials = new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "test-session");

    public static readonly DateTimeOffset IamSigningTime = new(2024, 3, 15, 12, 30, 45, TimeSpan.Zero);

    private readonly string _dir = Directory.CreateTempSubdirectory("crtls-").FullName;
    private Process? _server;

    public int Port { get; private set; }

    /// <summary>CA that issued the server certificate.</summary>
    public string CaFile => Path.Combine(_dir, "ca.pem");

    /// <summary>A CA that did not.</summary>
    public string WrongCaFile => Path.Combine(_dir, "wrong-ca.pem");

    public string ConnectionString(string user = AppUser, string? password = AppPassword, string host = "127.0.0.1") =>
        $"Server={host};Port={Port};User ID={user};{(password is null ? "" : $"Password={password};")}Pooling=false;Connection Timeout=10";

    public async Task InitializeAsync()
    {
        var mariadbd = Which("mariadbd", "/usr/sbin/mariadbd");
        var installDb = Which("mariadb-install-db", "/usr/bin/mariadb-install-db");
        var client = Which("mariadb", "/usr/bin/mariadb");
        if (mariadbd is null || installDb is null || client is null)
        {
            throw new InvalidOperationException("mariadbd not found. Run 'sudo scripts/install-test-deps.sh' (apt-get install mariadb-server).");
        }

        WriteCertificates();
        var data = Path.Combine(_dir, "data");
        var socket = Path.Combine(_dir, "mysqld.sock");
        await Run(installDb, $"--no-defaults --datadir={data} --auth-root-authentication-method=normal --skip-test-db --user=root");

        Port = FreePort();
        _server = Process.Start(new ProcessStartInfo(mariadbd,
            $"--no-defaults --datadir={data} --port={Port} --bind-address=127.0.0.1 --socket={socket} --user=root " +
            $"--pid-file={Path.Combine(_dir, "mysqld.pid")} --log-error={Path.Combine(_dir, "error.log")} --skip-name-resolve " +
            $"--ssl-cert={Path.Combine(_dir, "server-cert.pem")} --ssl-key={Path.Combine(_dir, "server-key.pem")} --ssl-ca={CaFile} " +
            "--innodb-buffer-pool-size=16M --skip-log-bin")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!File.Exists(socket))
        {
            if (_server.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException("mariadbd did not start: " + SafeRead(Path.Combine(_dir, "error.log")));
            }

            await Task.Delay(100);
        }

        var iamPassword = RdsAuthToken.Generate("127.0.0.1", Port, IamUser, "eu-west-1", IamCredentials, IamSigningTime);
        await Run(client, $"--no-defaults --socket={socket} -uroot", stdin:
            $"CREATE USER '{AppUser}'@'%' IDENTIFIED BY '{AppPassword}';" +
            $"CREATE USER '{IamUser}'@'%' IDENTIFIED BY '{iamPassword}' REQUIRE SSL;");
    }

    public async Task DisposeAsync()
    {
        if (_server is { HasExited: false })
        {
            _server.Kill(entireProcessTree: true);
            await _server.WaitForExitAsync();
        }

        _server?.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private void WriteCertificates()
    {
        var notBefore = DateTimeOffset.UtcNow.AddDays(-1);
        var notAfter = DateTimeOffset.UtcNow.AddDays(7);
        using var caKey = RSA.Create(2048);
        using var ca = CreateCa("CN=CustomerRecords Test CA", caKey, notBefore, notAfter);
        using var wrongKey = RSA.Create(2048);
        using var wrong = CreateCa("CN=Unrelated Test CA", wrongKey, notBefore, notAfter);

        using var serverKey = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        // Only the name localhost: connecting to 127.0.0.1 passes VerifyCA but fails VerifyFull's name check.
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var server = request.Create(ca, notBefore, notAfter, RandomNumberGenerator.GetBytes(16));

        File.WriteAllText(CaFile, ca.ExportCertificatePem());
        File.WriteAllText(WrongCaFile, wrong.ExportCertificatePem());
        File.WriteAllText(Path.Combine(_dir, "server-cert.pem"), server.ExportCertificatePem());
        File.WriteAllText(Path.Combine(_dir, "server-key.pem"), serverKey.ExportRSAPrivateKeyPem());
    }

    private static X509Certificate2 CreateCa(string subject, RSA key, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(notBefore, notAfter);
    }

    private static async Task Run(string file, string arguments, string? stdin = null)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments)
        {
            RedirectStandardInput = stdin is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }

        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} failed ({process.ExitCode}): {await error}{await output}");
        }
    }

    private static string? Which(string name, string fallback)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/sbin").Append("/usr/bin"))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return File.Exists(fallback) ? fallback : null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string SafeRead(string path) => File.Exists(path) ? File.ReadAllText(path) : "(no error log)";
}
