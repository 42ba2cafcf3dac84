using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Api.Cli;

/// <summary>
/// Turns what stopped a start (or a <c>migrate</c>) into one message for a person: what is wrong, naming the
/// setting or the address, and what to do. The throwers already say most of it (options validators name their
/// setting, the exposure guard and the secret files their fix, the migrator the database's host and port); this
/// adds what the framework's own exceptions leave out. No stack trace unless asked for.
/// </summary>
internal static partial class StartupFailure
{
    /// <summary>The message, starting with <paramref name="lead"/> ("Start-up failed"); with <paramref name="details"/>, the exception in full after it.</summary>
    public static string Describe(string lead, Exception exception, bool details)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var message = $"{lead}: {Explain(exception)}";
        return details ? $"{message}{Environment.NewLine}{Environment.NewLine}{exception}" : message;
    }

    /// <summary>The explanation alone.</summary>
    public static string Explain(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var failures = Flatten(exception).ToList();
        if (failures.All(f => f is OptionsValidationException))
        {
            var each = failures.Cast<OptionsValidationException>().SelectMany(Failures).Distinct(StringComparer.Ordinal).ToList();
            return each.Count == 1
                ? $"invalid setting: {each[0]}"
                : "invalid settings:" + string.Concat(each.Select(f => $"{Environment.NewLine}  - {f}"));
        }

        return string.Join(Environment.NewLine, failures.Select(ExplainOne).Distinct(StringComparer.Ordinal));
    }

    private static string ExplainOne(Exception exception) => exception switch
    {
        OptionsValidationException validation => Explain(validation),

        // Kestrel: "Failed to bind to address http://127.0.0.1:8080: address already in use."
        IOException { InnerException: AddressInUseException } io =>
            $"cannot listen on {(BindAddress().Match(io.Message) is { Success: true } m ? m.Groups["address"].Value : "the configured address")}: " +
            "the address is already in use, by another process or another instance of this service. Stop it, or listen elsewhere " +
            "with --urls, ASPNETCORE_URLS or Kestrel:Endpoints.",

        // A file a setting names (a secret file, a certificate) that cannot be read.
        InvalidOperationException { InnerException: FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException } file =>
            $"{file.Message.TrimEnd('.')}: {file.InnerException!.Message} Check the path, and that this user may read the file.",

        // Thrown by the service's own checks with a message that names the setting and the fix.
        InvalidOperationException => exception.Message,

        _ => $"{exception.Message} ({exception.GetType().Name}; run with --verbose for the stack trace)",
    };

    private static IEnumerable<Exception> Flatten(Exception exception) =>
        exception is AggregateException aggregate
            ? aggregate.Flatten().InnerExceptions.SelectMany(Flatten)
            : [exception];

    /// <summary>
    /// Each failure as the validator wrote it; the data-annotation ones ("DataAnnotation validation failed for
    /// 'DatabaseOptions' members: 'StartupTimeout' with the error: '...'") as "Database:StartupTimeout: ...".
    /// </summary>
    private static IEnumerable<string> Failures(OptionsValidationException validation)
    {
        var section = validation.OptionsType
            .GetField("Section", BindingFlags.Public | BindingFlags.Static)?.GetRawConstantValue() as string;
        foreach (var failure in validation.Failures)
        {
            var annotation = DataAnnotationFailure().Match(failure);
            if (!annotation.Success)
            {
                yield return failure;
                continue;
            }

            var key = new StringBuilder();
            if (section is not null)
            {
                key.Append(section).Append(':');
            }

            key.Append(annotation.Groups["member"].Value);
            yield return $"{key}: {annotation.Groups["error"].Value}";
        }
    }

    [GeneratedRegex(@"Failed to bind to address (?<address>\S+?): address already in use")]
    private static partial Regex BindAddress();

    [GeneratedRegex(@"^DataAnnotation validation failed for '[^']*' members: '(?<member>[^']*)' with the error: '(?<error>.*)'\.$")]
    private static partial Regex DataAnnotationFailure();
}
