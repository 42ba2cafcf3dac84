namespace CustomerRecords.Api.Auth;

/// <summary>
/// The OAuth scopes of the customer API. Each is also the name of the authorization policy that
/// requires it: <c>group.RequireAuthorization(Scopes.Read)</c>.
/// </summary>
public static class Scopes
{
    /// <summary>Read customers (GET).</summary>
    public const string Read = "customers:read";

    /// <summary>Create, update, delete and restore customers, and list the deleted ones.</summary>
    public const string Write = "customers:write";

    /// <summary>Erase a customer's personal data for good (a data-subject request); granted apart from write on purpose.</summary>
    public const string Erase = "customers:erase";

    /// <summary>Every scope this service knows; API keys may only be granted these.</summary>
    public static IReadOnlyList<string> All { get; } = [Read, Write, Erase];
}
