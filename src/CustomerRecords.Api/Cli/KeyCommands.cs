using CustomerRecords.Api.Auth;

namespace CustomerRecords.Api.Cli;

/// <summary>Command-line helpers that run instead of the web host: <c>hash-key</c> and <c>generate-key</c>.</summary>
public static class KeyCommands
{
    /// <summary>
    /// Runs <c>hash-key [key]</c> (key from the argument or, safer because it stays out of shell history,
    /// from standard input) or <c>generate-key [client-name] [scopes...]</c>. Returns true when it handled a command;
    /// Program.cs then exits without starting the host.
    /// </summary>
    public static bool TryRun(string[] args, TextWriter output) => TryRun(args, output, Console.In);

    /// <summary>As <see cref="TryRun(string[], TextWriter)"/>, reading a key from <paramref name="input"/>.</summary>
    public static bool TryRun(string[] args, TextWriter output, TextReader input)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(input);
        if (args.Length == 0)
        {
            return false;
        }

        switch (args[0])
        {
            case "hash-key":
                var key = args.Length > 1 ? args[1] : input.ReadLine()?.Trim();
                if (string.IsNullOrEmpty(key))
                {
                    output.WriteLine("usage: CustomerRecords.Api hash-key <key>   (or pipe the key on standard input)");
                    Environment.ExitCode = 2;
                    return true;
                }

                output.WriteLine(ApiKeyHash.Hash(key));
                return true;

            case "generate-key":
                var name = args.Length > 1 ? args[1] : "client";
                var scopes = args.Length > 2 ? args[2..] : [Scopes.Read];
                var unknown = scopes.Where(s => !Scopes.All.Contains(s)).ToList();
                if (unknown.Count > 0)
                {
                    output.WriteLine($"unknown scope(s) {string.Join(", ", unknown)}; use {string.Join(" and/or ", Scopes.All)}");
                    Environment.ExitCode = 2;
                    return true;
                }

                var generated = ApiKeyHash.GenerateKey();
                var hash = ApiKeyHash.Hash(generated);
                output.WriteLine($"key:  {generated}");
                output.WriteLine($"hash: {hash}");
                output.WriteLine();
                output.WriteLine("Give the key to the client once; configure only the hash, for example:");
                output.WriteLine($"  Auth__ApiKeys__0__Name={name}");
                output.WriteLine($"  Auth__ApiKeys__0__Hash={hash}");
                for (var i = 0; i < scopes.Length; i++)
                {
                    output.WriteLine($"  Auth__ApiKeys__0__Scopes__{i}={scopes[i]}");
                }

                return true;

            default:
                return false;
        }
    }
}
