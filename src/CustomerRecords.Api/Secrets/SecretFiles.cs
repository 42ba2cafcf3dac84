using System.Collections;
using Microsoft.Extensions.Configuration.KeyPerFile;

namespace CustomerRecords.Api.Secrets;

/// <summary>
/// Secrets from files rather than environment variables or appsettings, so they stay out of process listings,
/// <c>docker inspect</c> and crash dumps of the environment.
/// </summary>
/// <remarks>
/// Two conventions, both later (and so stronger) than appsettings and environment variables:
/// <list type="bullet">
/// <item><b>Key per file</b>: every file in <c>/run/secrets</c> (Docker/Compose secrets), in <c>$CREDENTIALS_DIRECTORY</c>
/// (systemd <c>LoadCredential=</c>) and in <c>Secrets:Directory</c> if set, becomes one key; <c>__</c> in the file name
/// separates sections: a file <c>Auth__ApiKeys__0__Hash</c> sets <c>Auth:ApiKeys:0:Hash</c>,
/// <c>ConnectionStrings__Default</c> sets <c>ConnectionStrings:Default</c>.</item>
/// <item><b><c>*_FILE</c> variables</b>: an environment variable <c>NAME_FILE=/path</c> sets <c>NAME</c> (with <c>__</c> → <c>:</c>)
/// to the file's content, for configuration paths (<c>NAME</c> contains <c>__</c>, e.g. <c>Auth__ApiKeys__0__Hash_FILE</c>,
/// <c>ConnectionStrings__Default_FILE</c>) and the tutorial's <c>DB_*</c> variables (e.g. <c>DB_PASSWORD_FILE=/run/secrets/db_password</c>).
/// Other <c>*_FILE</c> variables of the environment (tools' own settings) are left alone.</item>
/// </list>
/// One trailing newline is removed from file contents. Values are never logged.
/// </remarks>
public static class SecretFiles
{
    /// <summary>Default Docker/Compose secrets directory.</summary>
    public const string DefaultDirectory = "/run/secrets";

    /// <summary>Add the secret-file configuration sources described on <see cref="SecretFiles"/>. Idempotent.</summary>
    public static IConfigurationBuilder AddSecretFiles(this IConfigurationBuilder configuration, IDictionary? environment = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (configuration.Sources.OfType<FileReferenceConfigurationSource>().Any())
        {
            return configuration;
        }

        environment ??= Environment.GetEnvironmentVariables();
        var built = configuration.Build();
        var directories = new[] { DefaultDirectory, environment["CREDENTIALS_DIRECTORY"] as string, built["Secrets:Directory"] }
            .Where(d => !string.IsNullOrWhiteSpace(d))
            .Distinct(StringComparer.Ordinal);
        foreach (var directory in directories)
        {
            configuration.AddKeyPerFile(source =>
            {
                source.FileProvider = Directory.Exists(directory) ? new Microsoft.Extensions.FileProviders.PhysicalFileProvider(directory!) : null;
                source.Optional = true;
                source.ReloadOnChange = false;
                // Skip hidden files and the ..data symlinks Kubernetes puts next to mounted secrets.
                source.IgnoreCondition = name => name.StartsWith('.');
            });
        }

        configuration.Add(new FileReferenceConfigurationSource(environment));
        return configuration;
    }
}

/// <summary>Implements the <c>NAME_FILE=/path</c> convention (see <see cref="SecretFiles"/>).</summary>
internal sealed class FileReferenceConfigurationSource(IDictionary environment) : IConfigurationSource
{
    public IConfigurationProvider Build(IConfigurationBuilder builder) => new Provider(environment);

    private sealed class Provider(IDictionary environment) : ConfigurationProvider
    {
        public override void Load()
        {
            var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            foreach (DictionaryEntry entry in environment)
            {
                if (entry.Key is not string name || entry.Value is not string path
                    || !name.EndsWith("_FILE", StringComparison.Ordinal) || name.Length <= 5 || path.Length == 0)
                {
                    continue;
                }

                var target = name[..^5];
                if (!target.Contains("__", StringComparison.Ordinal) && !target.StartsWith("DB_", StringComparison.Ordinal))
                {
                    continue;
                }

                var key = target.Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal);
                string content;
                try
                {
                    content = File.ReadAllText(path);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Names the variable, never the content.
                    throw new InvalidOperationException($"Cannot read the secret file named by environment variable {name}: {e.GetType().Name}.", e);
                }

                data[key] = content.EndsWith("\r\n", StringComparison.Ordinal) ? content[..^2]
                    : content.EndsWith('\n') ? content[..^1]
                    : content;
            }

            Data = data;
        }
    }
}
