using System.Text.RegularExpressions;

namespace CustomerRecords.Api.Redaction;

/// <summary>
/// The log guard's patterns: whatever reaches a log provider (framework messages, exception texts, scopes) is
/// scrubbed of email addresses, phone numbers, bearer/JWT tokens, generated API keys, AWS signatures and
/// password-like settings. It backs up classification-based redaction for text that was never classified.
/// </summary>
internal static partial class LogScrubber
{
    public static string Scrub(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? "";
        }

        var result = Jwt().Replace(text, "[redacted-token]");
        result = AuthorizationValue().Replace(result, "$1 [redacted]");
        result = ApiKey().Replace(result, "[redacted-key]");
        result = SecretSetting().Replace(result, "$1$2[redacted]");
        result = Email().Replace(result, "[redacted-email]");
        result = Phone().Replace(result, static m => IsPhoneLike(m.Value) ? "[redacted-phone]" : m.Value);
        return result;
    }

    private static bool IsPhoneLike(string value)
    {
        if (IsoDate().IsMatch(value))
        {
            return false;
        }

        var digits = 0;
        var text = value.Replace("%2B", "", StringComparison.OrdinalIgnoreCase).Replace("%20", " ", StringComparison.Ordinal);
        foreach (var c in text)
        {
            if (char.IsAsciiDigit(c))
            {
                digits++;
            }
        }

        return digits is >= 8 and <= 15;
    }

    [GeneratedRegex(@"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")]
    private static partial Regex Jwt();

    [GeneratedRegex(@"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}")]
    private static partial Regex AuthorizationValue();

    [GeneratedRegex(@"crk_[A-Za-z0-9_-]{8,}")]
    private static partial Regex ApiKey();

    [GeneratedRegex(@"(?i)\b(password|passwd|pwd|secret|client_secret|access_token|id_token|refresh_token|api_?key|x-api-key|x-amz-signature|x-amz-security-token|x-amz-credential|aws_secret_access_key|aws_session_token|secretaccesskey|sessiontoken)\b(""?\s*[=:]\s*""?)[^;&\s,""]+")]
    private static partial Regex SecretSetting();

    [GeneratedRegex(@"[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")]
    private static partial Regex Email();

    // Digit groups joined by space, dot, dash or parentheses, optionally led by + (or %2B in a URL); the
    // evaluator keeps only 8–15 digits (E.164 length). Lookarounds keep GUIDs, versions, times and ids in
    // paths intact; a leading + after / or = still counts.
    [GeneratedRegex(@"(?:(?<=[/=])(?:\+|%2[Bb])|(?<![\w.:/%+-])(?:\+|%2[Bb])?)\(?\d{1,4}\)?(?:(?:[ .-]|%20)?\(?\d{1,5}\)?){1,6}(?![\w:/]|-\w|\.\d)")]
    private static partial Regex Phone();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}$")]
    private static partial Regex IsoDate();
}
