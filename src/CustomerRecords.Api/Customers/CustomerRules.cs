using System.Buffers;
using System.Globalization;
using System.Net.Mail;
using System.Text;

namespace CustomerRecords.Api.Customers;

/// <summary>Field rules shared by every route that writes a customer.</summary>
internal static class CustomerRules
{
    public const int NameMaxLength = 255;
    public const int EmailMaxLength = 255;
    public const int PhoneMaxLength = 20;

    /// <summary>Validates a full body (create, replace): name and email required, phone optional.</summary>
    public static bool TryValidateFull(CustomerBody body, Dictionary<string, string[]> errors, out CustomerChange change)
    {
        var name = Required(body.Name, "name", errors, NormalizeName);
        var email = Required(body.Email, "email", errors, NormalizeEmail);
        var phone = Optional(body.Phone, "phone", errors);
        change = new CustomerChange(name, email, SetPhone: true, phone);
        return errors.Count == 0;
    }

    /// <summary>Validates a merge patch: absent fields are kept, <c>null</c> clears only the phone.</summary>
    public static bool TryValidatePatch(CustomerBody body, Dictionary<string, string[]> errors, out CustomerChange change)
    {
        var name = body.Name.Present ? Required(body.Name, "name", errors, NormalizeName) : null;
        var email = body.Email.Present ? Required(body.Email, "email", errors, NormalizeEmail) : null;
        var phone = body.Phone.Present ? Optional(body.Phone, "phone", errors) : null;
        change = new CustomerChange(name, email, body.Phone.Present, phone);
        return errors.Count == 0;
    }

    private static string? Required(
        CustomerBody.Field field,
        string key,
        Dictionary<string, string[]> errors,
        Func<string, (string? Value, string? Error)> normalize)
    {
        if (errors.ContainsKey(key))
        {
            return null;
        }

        if (!field.Present || field.Value is null)
        {
            errors[key] = [$"The {key} is required."];
            return null;
        }

        var (value, error) = normalize(field.Value);
        if (error is not null)
        {
            errors[key] = [error];
        }

        return value;
    }

    private static string? Optional(CustomerBody.Field field, string key, Dictionary<string, string[]> errors)
    {
        if (errors.ContainsKey(key) || field.Value is null)
        {
            return null;
        }

        var (value, error) = NormalizePhone(field.Value);
        if (error is not null)
        {
            errors[key] = [error];
        }

        return value;
    }

    internal static (string? Value, string? Error) NormalizeName(string raw)
    {
        var name = raw.Trim();
        if (name.Length == 0)
        {
            return (null, "The name must not be empty.");
        }

        if (name.Length > NameMaxLength)
        {
            return (null, $"The name must be at most {NameMaxLength} characters.");
        }

        var error = NameCharacterError(name);
        return error is null ? (name, null) : (null, error);
    }

    /// <summary>
    /// Why <paramref name="name"/> holds a character no name should, or null. Refused: unpaired surrogates,
    /// control characters, line and paragraph separators, bidirectional embedding, override and isolate
    /// controls (U+202A–U+202E, U+2066–U+2069: they reorder the text displayed around the name, the
    /// "Trojan Source" trick), and every other format character (zero-width space U+200B, word joiner
    /// U+2060, byte-order mark U+FEFF, soft hyphen, invisible operators, ...): invisible, they make two names
    /// that look the same differ. Kept because real names need them: the joiners ZWNJ U+200C and ZWJ U+200D
    /// (Persian and Indic spelling, emoji sequences), the directional marks LRM U+200E, RLM U+200F and ALM
    /// U+061C (right-to-left and mixed-direction names; they set no state that outlives them), the Mongolian
    /// vowel separator U+180E (Mongolian spelling), and tag characters inside an emoji tag sequence (a
    /// subdivision flag: U+1F3F4, tags, U+E007F). A name must also show at least one letter, digit,
    /// punctuation mark or symbol.
    /// </summary>
    private static string? NameCharacterError(string name)
    {
        var visible = false;
        var tags = TagSequence.None;
        var rest = name.AsSpan();
        while (!rest.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(rest, out var rune, out var used) != OperationStatus.Done)
            {
                return "The name must be valid Unicode text (no unpaired surrogates).";
            }

            rest = rest[used..];
            if (rune.Value is >= 0xE0020 and <= 0xE007F)
            {
                // Tag characters: the spec of a subdivision flag after U+1F3F4, ended by CANCEL TAG U+E007F.
                var end = rune.Value == 0xE007F;
                if (end ? tags != TagSequence.Inside : tags == TagSequence.None)
                {
                    return Invisible(rune);
                }

                tags = end ? TagSequence.None : TagSequence.Inside;
                continue;
            }

            if (tags == TagSequence.Inside)
            {
                return "The name holds an emoji tag sequence without its end (U+E007F).";
            }

            tags = rune.Value == 0x1F3F4 ? TagSequence.AfterFlag : TagSequence.None;
            switch (Rune.GetUnicodeCategory(rune))
            {
                case UnicodeCategory.Control:
                    return "The name must not contain control characters.";
                case UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator:
                    return "The name must not contain line or paragraph separators.";
                case UnicodeCategory.Format when rune.Value is (>= 0x202A and <= 0x202E) or (>= 0x2066 and <= 0x2069):
                    return string.Create(CultureInfo.InvariantCulture, $"The name must not contain U+{rune.Value:X4}: bidirectional embedding, override and isolate controls can reorder the text shown around a name.");
                case UnicodeCategory.Format when rune.Value is not (0x200C or 0x200D or 0x200E or 0x200F or 0x061C or 0x180E):
                    return Invisible(rune);
                case UnicodeCategory.Format or UnicodeCategory.SpaceSeparator or UnicodeCategory.NonSpacingMark
                    or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark or UnicodeCategory.PrivateUse
                    or UnicodeCategory.OtherNotAssigned:
                    break;
                default:
                    visible = true;
                    break;
            }
        }

        if (tags == TagSequence.Inside)
        {
            return "The name holds an emoji tag sequence without its end (U+E007F).";
        }

        return visible ? null : "The name must contain at least one visible character.";

        static string Invisible(Rune rune) => string.Create(CultureInfo.InvariantCulture,
            $"The name must not contain U+{rune.Value:X4}: invisible format characters (zero-width spaces, word joiners, byte-order marks and the like) have no place in a name.");
    }

    /// <summary>Where a name's scan is in an emoji tag sequence (U+1F3F4, tag characters, U+E007F).</summary>
    private enum TagSequence
    {
        None,
        AfterFlag,
        Inside,
    }

    internal static (string? Value, string? Error) NormalizeEmail(string raw)
    {
        var email = raw.Trim();
        if (email.Length == 0)
        {
            return (null, "The email must not be empty.");
        }

        if (email.Length > EmailMaxLength)
        {
            return (null, $"The email must be at most {EmailMaxLength} characters.");
        }

        if (HasInvisibleCharacter(email))
        {
            return (null, "The email must not contain invisible format characters (such as zero-width or bidirectional controls) or unpaired surrogates.");
        }

        return IsValidEmail(email) ? (email, null) : (null, "The email is not a valid address.");
    }

    internal static (string? Value, string? Error) NormalizePhone(string raw)
    {
        var phone = raw.Trim();
        if (phone.Length == 0)
        {
            // An empty phone means "no phone": store null rather than an empty string.
            return (null, null);
        }

        if (phone.Length > PhoneMaxLength)
        {
            return (null, $"The phone must be at most {PhoneMaxLength} characters.");
        }

        var digits = 0;
        foreach (var c in phone)
        {
            if (char.IsAsciiDigit(c))
            {
                digits++;
            }
            else if (c is not (' ' or '+' or '-' or '(' or ')' or '.'))
            {
                return (null, "The phone may contain only digits, spaces and + - ( ) .");
            }
        }

        return digits > 0 ? (phone, null) : (null, "The phone must contain at least one digit.");
    }

    /// <summary>
    /// One address in the plain <c>local@domain</c> form: no display name, no whitespace, control or format
    /// characters, a dotted domain. <see cref="MailAddress"/> does the RFC parsing; the extra checks
    /// reject the forms it tolerates that no mail system would deliver to.
    /// </summary>
    internal static bool IsValidEmail(string email)
    {
        if (HasInvisibleCharacter(email))
        {
            return false;
        }

        foreach (var c in email)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c) || c is '<' or '>' or ',' or ';' or '"')
            {
                return false;
            }
        }

        var at = email.LastIndexOf('@');
        if (at <= 0 || at == email.Length - 1 || at > 64)
        {
            return false;
        }

        var domain = email.AsSpan(at + 1);
        if (domain.IndexOf('.') <= 0 || domain[^1] == '.' || domain.Contains("..", StringComparison.Ordinal) || email.AsSpan(0, at).Contains("..", StringComparison.Ordinal))
        {
            return false;
        }

        return MailAddress.TryCreate(email, out var parsed) && parsed.Address == email;
    }

    /// <summary>
    /// True when <paramref name="text"/> holds a format character (zero-width, joiner, bidirectional control,
    /// byte-order mark, tag, ...) or an unpaired surrogate. An email is a key compared by machines: none is
    /// kept, not even the joiners a name may hold, since an invisible character would make two addresses that
    /// look the same two different customers.
    /// </summary>
    private static bool HasInvisibleCharacter(string text)
    {
        var rest = text.AsSpan();
        while (!rest.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(rest, out var rune, out var used) != OperationStatus.Done
                || Rune.GetUnicodeCategory(rune) == UnicodeCategory.Format)
            {
                return true;
            }

            rest = rest[used..];
        }

        return false;
    }

    /// <summary>The key that makes emails unique regardless of case, the same on every engine.</summary>
    public static string EmailKey(string email) => email.ToLowerInvariant();

    /// <summary>The key names are sorted and prefix-searched by, the same on every engine.</summary>
    public static string NameKey(string name) => name.ToLowerInvariant();

    /// <summary>
    /// The digits of a phone that <see cref="NormalizePhone"/> accepted, what phone search compares. The database keeps
    /// the same key as the generated column <c>phone_key</c> (migration 0009), which removes the five other characters allowed.
    /// </summary>
    public static string PhoneKey(string phone) => string.Concat(phone.Where(char.IsAsciiDigit));
}
