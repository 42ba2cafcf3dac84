using System.CommandLine;
using CustomerRecords.Api.Auth;

namespace CustomerRecords.Api.Cli;

/// <summary>API-key material, printed without starting anything: <c>hash-key</c> and <c>generate-key</c>.</summary>
public static class KeyCommands
{
    /// <summary>Default client name of <c>generate-key</c>.</summary>
    public const string DefaultClientName = "client";

    /// <summary><c>hash-key [key]</c>: the stored form of a key, from the argument or (out of shell history) standard input.</summary>
    internal static Command HashKeyCommand(CliConsole console)
    {
        var key = new Argument<string?>("key")
        {
            Arity = ArgumentArity.ZeroOrOne,
            Description = "The key to hash. Leave it out to read it from standard input, which keeps it out of shell history.",
        };
        var command = new Command("hash-key", "Print the stored form (sha256:...) of an API key, for Auth:ApiKeys:N:Hash.") { key };
        command.SetAction(result => HashKey(result.GetValue(key), console));
        return command;
    }

    /// <summary><c>generate-key [client-name] [scopes...]</c>: a new key, its hash and the settings that configure it.</summary>
    internal static Command GenerateKeyCommand(CliConsole console)
    {
        var name = new Argument<string>("client-name")
        {
            Description = "The client's name, for Auth:ApiKeys:N:Name (it appears in logs and metrics).",
            DefaultValueFactory = _ => DefaultClientName,
        };
        var scopes = new Argument<string[]>("scopes")
        {
            Arity = ArgumentArity.ZeroOrMore,
            HelpName = "scopes",
            Description = $"What the key may do: {string.Join(" and/or ", Scopes.All)}.",
            DefaultValueFactory = _ => [Scopes.Read],
        };
        scopes.AcceptOnlyFromAmong([.. Scopes.All]);
        var command = new Command("generate-key", "Generate a new API key; print it once, with its hash and the settings that configure the hash.")
        {
            name,
            scopes,
        };
        command.SetAction(result => GenerateKey(result.GetRequiredValue(name), result.GetRequiredValue(scopes), console.Out));
        return command;
    }

    /// <summary>Prints the stored form of <paramref name="key"/>, or of the first line of standard input when it is null.</summary>
    /// <returns>The exit code: 0, or 2 when there is no key.</returns>
    public static int HashKey(string? key, CliConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        if (key is null && console.InteractiveInput)
        {
            console.Error.Write("Key to hash (input is not hidden): ");
        }

        key ??= console.In.ReadLine()?.Trim();
        if (string.IsNullOrEmpty(key))
        {
            console.Error.WriteLine("usage: CustomerRecords.Api hash-key <key>   (or pipe the key on standard input)");
            return CommandLineApp.UsageError;
        }

        console.Out.WriteLine(ApiKeyHash.Hash(key));
        return 0;
    }

    /// <summary>Prints a new key, its hash and the environment variables that configure the hash with <paramref name="scopes"/>.</summary>
    public static int GenerateKey(string name, IReadOnlyList<string> scopes, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(scopes);
        ArgumentNullException.ThrowIfNull(output);
        var generated = ApiKeyHash.GenerateKey();
        var hash = ApiKeyHash.Hash(generated);
        output.WriteLine($"key:  {generated}");
        output.WriteLine($"hash: {hash}");
        output.WriteLine();
        output.WriteLine("Give the key to the client once; configure only the hash, for example:");
        output.WriteLine($"  Auth__ApiKeys__0__Name={name}");
        output.WriteLine($"  Auth__ApiKeys__0__Hash={hash}");
        for (var i = 0; i < scopes.Count; i++)
        {
            output.WriteLine($"  Auth__ApiKeys__0__Scopes__{i}={scopes[i]}");
        }

        return 0;
    }
}
