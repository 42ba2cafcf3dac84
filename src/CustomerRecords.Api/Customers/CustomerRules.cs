using System.Net.Mail;

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

        foreach (var c in name)
        {
            if (char.IsControl(c))
            {
                return (null, "The name must not contain control characters.");
            }
        }

        return (name, null);
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

        foreach (var c in phone)
        {
            if (!(char.IsAsciiDigit(c) || c is ' ' or '+' or '-' or '(' or ')' or '.'))
            {
                return (null, "The phone may contain only digits, spaces and + - ( ) .");
            }
        }

        return (phone, null);
    }

    /// <summary>
    /// One address in the plain <c>local@domain</c> form: no display name, no whitespace or control
    /// characters, a dotted domain. <see cref="MailAddress"/> does the RFC parsing; the extra checks
    /// reject the forms it tolerates that no mail system would deliver to.
    /// </summary>
    internal static bool IsValidEmail(string email)
    {
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

    /// <summary>The key that makes emails unique regardless of case, the same on every engine.</summary>
    public static string EmailKey(string email) => email.ToLowerInvariant();

    /// <summary>The key names are sorted and prefix-searched by, the same on every engine.</summary>
    public static string NameKey(string name) => name.ToLowerInvariant();
}
