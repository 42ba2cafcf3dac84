namespace CustomerRecords.Api.Auth;

/// <summary>
/// The OAuth scopes of the customer API. Each is also the name of the authorization policy that
/// requires it: <c>group.RequireAuthorization(Scopes.Read)</c>.
/// </summary>
public static class Scopes
{
    /// <summary>Read customers (GET).</summary>
    public const string Read = "customers:read";

    /// <summary>Create, update and delete customers (POST, PUT, PATCH, DELETE).</summary>
    public const string Write = "customers:write";

    /// <summary>Every scope this service knows; API keys may only be granted these.</summary>
    public static IReadOnlyList<string> All { get; } = [Read, Write];
}
