using System.Text.RegularExpressions;

namespace CustomerRecords.Api.Cli;

/// <summary>
/// Separates the host's settings from the command line proper before the parser sees it. Any setting may be given
/// as ASP.NET Core reads it from the command line: <c>--Section:Key=value</c> or <c>--Section:Key value</c>
/// (<c>--urls http://127.0.0.1:8080</c>, <c>--ConnectionStrings:Customers=...</c>, <c>--environment Development</c>).
/// Such arguments go to the host in their order, wherever they stand; everything else (commands, their arguments
/// and their own options such as <c>--status</c>, <c>--help</c>, <c>--version</c>, <c>--verbose</c>) is parsed.
/// </summary>
/// <remarks>
/// Only the <c>--</c> forms count as settings: a path argument (<c>/data/x.csv</c>) or a word with an equals sign
/// stays an argument, so a typo is a usage error rather than a setting nobody reads. A <c>--Key</c> with no value
/// (at the end, or followed by another <c>--</c> argument) is an unknown option.
/// </remarks>
internal static partial class HostSettings
{
    /// <param name="Arguments">What the parser gets.</param>
    /// <param name="Settings">What the host gets, as ASP.NET Core's command-line configuration reads it.</param>
    /// <param name="Errors">Arguments that are neither: unknown options without a value.</param>
    public sealed record Split(IReadOnlyList<string> Arguments, IReadOnlyList<string> Settings, IReadOnlyList<string> Errors);

    /// <param name="args">The process's arguments.</param>
    /// <param name="optionNames">Every name and alias of the command line's own options.</param>
    public static Split Separate(IReadOnlyList<string> args, IReadOnlySet<string> optionNames)
    {
        var arguments = new List<string>();
        var settings = new List<string>();
        var errors = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--")
            {
                // Conventional end of options: the rest are the command's arguments, whatever they look like.
                arguments.AddRange(args.Skip(i));
                break;
            }

            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? arg : arg[..equals];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || optionNames.Contains(name))
            {
                arguments.Add(arg);
            }
            else if (!SettingName().IsMatch(name))
            {
                errors.Add($"Unrecognized option '{name}'.");
            }
            else if (equals >= 0)
            {
                settings.Add(arg);
            }
            else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                settings.Add(arg);
                settings.Add(args[++i]);
            }
            else
            {
                errors.Add($"Unrecognized option '{arg}' (a setting needs a value: {arg}=value).");
            }
        }

        return new Split(arguments, settings, errors);
    }

    // --Section:Key, --Section__Key, --urls, --ConnectionStrings:Customers, --Auth:ApiKeys:0:Hash
    [GeneratedRegex(@"^--[A-Za-z_][A-Za-z0-9_.:\-]*$")]
    private static partial Regex SettingName();
}
