using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Reflection;

namespace CustomerRecords.Api.Cli;

/// <summary>Standard streams of one run of the command line; tests pass their own.</summary>
/// <param name="Out">Data: a command's result (a hash, a key, the schema version, help asked for).</param>
/// <param name="Error">Messages: failures, usage errors, prompts.</param>
/// <param name="In">Input: a key to hash.</param>
/// <param name="InteractiveInput">Whether <paramref name="In"/> is a person at a terminal (a prompt helps) rather than a pipe.</param>
/// <param name="InteractiveError">Whether <paramref name="Error"/> is a terminal (a progress bar can be drawn) rather than a file or pipe.</param>
public sealed record CliConsole(TextWriter Out, TextWriter Error, TextReader In, bool InteractiveInput = false, bool InteractiveError = false)
{
    /// <summary>The process's own streams.</summary>
    public static CliConsole Process => new(Console.Out, Console.Error, Console.In, !Console.IsInputRedirected, !Console.IsErrorRedirected)
    {
        OpenOut = Console.OpenStandardOutput,
    };

    /// <summary>Standard output as bytes, for a command whose result is a file (<c>export</c>); null where there is none.</summary>
    public Func<Stream>? OpenOut { get; init; }
}

/// <summary>
/// The command line, parsed by System.CommandLine: <c>serve</c> (the default), <c>migrate [--status]</c>,
/// <c>hash-key [key]</c>, <c>generate-key [client-name] [scopes...]</c>, <c>help [command]</c>, and on the root
/// <c>--help</c>/<c>-h</c>, <c>--version</c> and <c>--verbose</c>. Settings (<c>--Key=value</c>, <c>--urls ...</c>)
/// go to the host as before (<see cref="HostSettings"/>). Exit codes: 0 success, 1 failure, 2 usage error; data on
/// standard output, messages on standard error.
/// </summary>
/// <remarks>
/// System.CommandLine is .NET's own parser (the dotnet CLI's): help, usage errors, typo suggestions and
/// <c>--version</c> come with it, each command's arguments are declared once and documented where they are declared,
/// and it is trimming- and AOT-friendly. Its own Ctrl+C handling is off: the host drains requests on SIGTERM.
/// </remarks>
public static class CommandLineApp
{
    /// <summary>Exit code of a command line that could not be understood; nothing was started.</summary>
    public const int UsageError = 2;

    /// <summary>
    /// Every command, in the order help lists them. A new command (import, export, seed) is one more line here;
    /// one that needs the service's settings and database is made like <see cref="Migrate"/>, with
    /// <see cref="CliContext.TakesSettings"/> and a <see cref="ServiceHost"/>.
    /// </summary>
    private static IEnumerable<Command> Commands(CliContext context) =>
    [
        Serve(context, new Command(ServeCommandName, "Serve the API (the default when no command is given).")),
        Migrate(context),
        FlushCache(context),
        Export(context),
        Import(context),
        Seed(context),
        KeyCommands.HashKeyCommand(context.Console),
        KeyCommands.GenerateKeyCommand(context.Console),
    ];

    /// <summary>Name of the default command.</summary>
    public const string ServeCommandName = "serve";

    /// <summary>Runs the command line with the process's streams; returns the exit code.</summary>
    public static Task<int> RunAsync(string[] args, ComposeService compose) => RunAsync(args, compose, CliConsole.Process);

    /// <summary>Runs the command line; returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args, ComposeService compose, CliConsole console, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(compose);
        ArgumentNullException.ThrowIfNull(console);
        var (root, context, result, errors) = Parse(args, compose, console);
        var invocation = new InvocationConfiguration
        {
            Output = console.Out,
            Error = console.Error,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null,
        };
        if (errors.Count > 0)
        {
            foreach (var error in errors)
            {
                console.Error.WriteLine(error);
            }

            console.Error.WriteLine();
            await WriteHelpAsync(root, CommandPath(result), console with { Out = console.Error });
            return UsageError;
        }

        return await result.InvokeAsync(invocation, ct);
    }

    /// <summary>What a command line means, without running it: the command and the settings that go to the host.</summary>
    /// <param name="Command">The command's name; <see cref="ServeCommandName"/> when none is given.</param>
    /// <param name="Settings">The arguments the host gets.</param>
    /// <param name="Errors">Usage errors; empty when the line is valid.</param>
    public sealed record Meaning(string Command, IReadOnlyList<string> Settings, IReadOnlyList<string> Errors);

    /// <summary>Parses <paramref name="args"/> as <see cref="RunAsync(string[], ComposeService)"/> would, running nothing.</summary>
    public static Meaning Explain(string[] args)
    {
        var (_, context, result, errors) = Parse(args, _ => throw new InvalidOperationException("Nothing runs while explaining."), new CliConsole(TextWriter.Null, TextWriter.Null, TextReader.Null));
        var command = result.CommandResult.Command;
        return new Meaning(command is RootCommand ? ServeCommandName : command.Name, context.Settings, errors);
    }

    private static (RootCommand Root, CliContext Context, ParseResult Result, List<string> Errors) Parse(
        string[] args, ComposeService compose, CliConsole console)
    {
        var context = new CliContext(compose, console);
        var root = CreateRoot(context);
        var optionNames = AllCommands(root)
            .SelectMany(c => c.Options)
            .SelectMany(o => o.Aliases.Append(o.Name))
            .ToHashSet(StringComparer.Ordinal);
        var split = HostSettings.Separate(args, optionNames);
        context.Settings = split.Settings;

        // Response files (@file) are off: a setting's value may start with @.
        var result = root.Parse(split.Arguments, new ParserConfiguration { ResponseFileTokenReplacer = null });
        var errors = new List<string>();
        if (result.Action is not { ClearsParseErrors: true })
        {
            errors.AddRange(split.Errors);
            errors.AddRange(result.Errors.Select(e => e.Message));
            if (split.Settings.Count > 0 && !context.TakesSettings.Contains(result.CommandResult.Command))
            {
                errors.Add($"'{result.CommandResult.Command.Name}' takes no settings: {string.Join(' ', split.Settings)}");
            }
        }

        return (root, context, result, errors);
    }

    private static RootCommand CreateRoot(CliContext context)
    {
        var root = new RootCommand(
            "CustomerRecords: a customer-records HTTP API (ASP.NET Core) on SQLite or MySQL/Aurora. With no command it serves.");
        root.Options.Add(context.Verbose);
        Serve(context, root);
        foreach (var command in Commands(context))
        {
            root.Subcommands.Add(command);
        }

        root.Subcommands.Add(Help(root, context));
        context.Notes[root] = SettingsNotes + Environment.NewLine + RootNotes;

        var help = root.Options.OfType<HelpOption>().Single();
        help.Action = new HelpWithNotes((SynchronousCommandLineAction)help.Action!, context.Notes);
        root.Options.OfType<VersionOption>().Single().Action = new PrintVersion();
        return root;
    }

    /// <summary><c>serve</c>, also the root's own action.</summary>
    private static Command Serve(CliContext context, Command command)
    {
        context.TakesSettings.Add(command);
        context.Notes[command] = SettingsNotes;
        command.SetAction((result, ct) =>
            new ServiceHost(context.Compose, context.Settings, result.GetValue(context.Verbose), context.Console).ServeAsync(ct));
        return command;
    }

    private static Command Migrate(CliContext context)
    {
        var status = new Option<bool>("--status")
        {
            Description = "Only report the schema version and the pending migrations; change nothing (no table, no SQLite file is created).",
        };
        var command = new Command(
            "migrate",
            "Apply the pending schema migrations and exit, printing the schema version before and after. " +
            "Waits up to Database:StartupTimeout for a database that does not answer yet.")
        {
            status,
        };
        context.TakesSettings.Add(command);
        context.Notes[command] = SettingsNotes;
        command.SetAction((result, ct) =>
            new ServiceHost(context.Compose, context.Settings, result.GetValue(context.Verbose), context.Console)
                .MigrateAsync(result.GetValue(status), ct));
        return command;
    }

    private static Command FlushCache(CliContext context)
    {
        var command = new Command(
            "flush-cache",
            "Delete this deployment's entries (Cache:KeyPrefix) from Redis and exit, printing how many: run it after " +
            "restoring the database from a backup, or start the service with Cache:FlushOnStart=true.");
        context.TakesSettings.Add(command);
        context.Notes[command] = SettingsNotes;
        command.SetAction((result, ct) =>
            new ServiceHost(context.Compose, context.Settings, result.GetValue(context.Verbose), context.Console).FlushCacheAsync(ct));
        return command;
    }

    /// <summary><c>export [--format csv|ndjson] [--updated-since T] [--out FILE]</c>: the live customers, from one snapshot.</summary>
    private static Command Export(CliContext context)
    {
        var format = new Option<Bulk.CustomerFileFormat?>("--format")
        {
            Description = "csv or ndjson. Default: from the --out file's extension (.csv, .ndjson, .jsonl), else ndjson.",
        };
        var since = new Option<string?>("--updated-since")
        {
            HelpName = "time",
            Description = "Only customers changed at or after this instant, an RFC 3339 date-time with an offset (2026-01-02T03:04:05Z).",
        };
        since.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } text && !Customers.CustomerListQuery.TryParseTimestamp(text, out _))
            {
                result.AddError($"--updated-since '{text}' is not an RFC 3339 date-time with an offset, such as 2026-01-02T03:04:05Z.");
            }
        });
        var output = new Option<string?>("--out")
        {
            HelpName = "file",
            Description = "Write to this file (under a temporary name, renamed when complete) instead of standard output.",
        };
        var command = new Command(
            "export",
            "Write every live customer (not the soft-deleted ones) as CSV or NDJSON, from one consistent snapshot of the database " +
            "(the replica's when one is configured), to standard output or --out. Progress and a summary go to standard error; " +
            "the file imports back unchanged.")
        {
            format,
            since,
            output,
        };
        context.TakesSettings.Add(command);
        context.Notes[command] = SettingsNotes;
        command.SetAction((result, ct) =>
        {
            var path = result.GetValue(output);
            var chosen = result.GetValue(format) ?? (path is null ? null : Bulk.CustomerFile.FromFileName(path)) ?? Bulk.CustomerFileFormat.Ndjson;
            DateTime? updatedSince = result.GetValue(since) is { } text && Customers.CustomerListQuery.TryParseTimestamp(text, out var parsed) ? parsed : null;
            var console = context.Console;
            var openOut = console.OpenOut ?? (() => throw new InvalidOperationException("This console has no standard output stream; use --out."));
            return new ServiceHost(context.Compose, context.Settings, result.GetValue(context.Verbose), console).RunToolAsync(
                "Export failed",
                migrate: false,
                (services, token) => Bulk.CustomerExportCommand.RunAsync(
                    services, new Bulk.ExportCommandOptions(chosen, updatedSince, path), openOut, console.Error, console.InteractiveError, token),
                ct);
        });

        return command;
    }

    private static Command Import(CliContext context)
    {
        var command = ImportCommand.Create(context.Console, () => context.Settings, context.Compose, context.Verbose);
        context.TakesSettings.Add(command);
        context.Notes[command] = ImportCommand.Notes + SettingsNotes;
        return command;
    }

    private static Command Seed(CliContext context)
    {
        var command = SeedCommand.Create(context.Console, () => context.Settings, context.Compose, context.Verbose);
        context.TakesSettings.Add(command);
        context.Notes[command] = SettingsNotes;
        return command;
    }

    /// <summary><c>help [command]</c>, for those who type the word rather than the option.</summary>
    private static Command Help(RootCommand root, CliContext context)
    {
        var name = new Argument<string?>("command") { Arity = ArgumentArity.ZeroOrOne, HelpName = "command", Description = "The command to explain." };
        name.AcceptOnlyFromAmong([.. root.Subcommands.Select(c => c.Name)]);
        var command = new Command("help", "Show help for the service, or for one command.") { name };
        command.SetAction(async (result, _) =>
        {
            var target = result.GetValue(name);
            await WriteHelpAsync(root, target is null ? [] : [target], context.Console);
            return 0;
        });
        return command;
    }

    /// <summary>Writes the help of the command at <paramref name="path"/> (empty: the root) to <paramref name="console"/>'s output.</summary>
    private static Task<int> WriteHelpAsync(RootCommand root, IReadOnlyList<string> path, CliConsole console) =>
        root.Parse([.. path, "--help"], new ParserConfiguration { ResponseFileTokenReplacer = null })
            .InvokeAsync(new InvocationConfiguration { Output = console.Out, Error = console.Error, ProcessTerminationTimeout = null });

    private static List<string> CommandPath(ParseResult result)
    {
        var path = new List<string>();
        for (var command = result.CommandResult; command is { Command: not RootCommand }; command = command.Parent as System.CommandLine.Parsing.CommandResult)
        {
            path.Insert(0, command.Command.Name);
        }

        return path;
    }

    private static IEnumerable<Command> AllCommands(Command command) => command.Subcommands.SelectMany(AllCommands).Prepend(command);

    private const string RootNotes = """
        Exit codes:
          0  success
          1  failure: a setting, a secret file, the database, the listen address (one message on standard error)
          2  usage error: unknown command or option; nothing was started

        Run 'CustomerRecords.Api <command> --help' for a command's own options.

        """;

    private const string SettingsNotes = """
        Settings:
          Every setting can be given as an option, --Section:Key=value or --Section:Key value, as an
          environment variable (Section__Key=value) or in appsettings.json. The README's Configuration
          section lists them all; for example:
            --urls http://127.0.0.1:8080                 where to listen (ASPNETCORE_URLS)
            --environment Development                    readable logs, and stack traces on failure
            --ConnectionStrings:Customers="Data Source=data/customers.db"
            --Database:Provider=mysql                    with a MySQL connection string, or DB_HOST etc.
            --Database:StartupTimeout=00:01:00           how long start-up waits for the database

        """;

    /// <summary>What the commands share during one run.</summary>
    private sealed class CliContext(ComposeService compose, CliConsole console)
    {
        public ComposeService Compose { get; } = compose;

        public CliConsole Console { get; } = console;

        /// <summary><c>--verbose</c>, on every command.</summary>
        public Option<bool> Verbose { get; } = new("--verbose")
        {
            Recursive = true,
            Description = "On failure, print the stack trace too (as the Development environment does).",
        };

        /// <summary>The host's arguments, known once the line is split.</summary>
        public IReadOnlyList<string> Settings { get; set; } = [];

        /// <summary>Commands that hand settings to the host; the others refuse them.</summary>
        public HashSet<Command> TakesSettings { get; } = [];

        /// <summary>Text added after a command's help.</summary>
        public Dictionary<Command, string> Notes { get; } = [];
    }

    /// <summary>The parser's help, then the command's notes (settings, exit codes).</summary>
    private sealed class HelpWithNotes(SynchronousCommandLineAction help, Dictionary<Command, string> notes) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            var code = help.Invoke(parseResult);
            var output = parseResult.InvocationConfiguration.Output;
            var command = parseResult.CommandResult.Command;
            if (notes.TryGetValue(command, out var text))
            {
                output.Write(text);
            }

            return code;
        }
    }

    /// <summary><c>--version</c>: the assembly's informational version (with the commit it was built from, when known).</summary>
    private sealed class PrintVersion : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(Version);
            return 0;
        }
    }

    /// <summary>The service's informational version, e.g. <c>1.0.0+f30cb9d…</c>.</summary>
    public static string Version { get; } =
        typeof(CommandLineApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(CommandLineApp).Assembly.GetName().Version?.ToString()
        ?? "unknown";
}
