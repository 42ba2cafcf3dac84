using CustomerRecords.Api.Auth;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Api.Admin;

/// <summary>
/// The admin page's OIDC sign-in (configuration section <c>Auth:Admin</c>). Only used when <c>Auth:Jwt:Authority</c>
/// is set; without a <see cref="ClientId"/> the page offers API-key sign-in only.
/// </summary>
public sealed class AdminOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Auth:Admin";

    /// <summary>
    /// The public OAuth client the page signs in as (authorization code + PKCE, no client secret); for Cognito an app
    /// client without a secret whose callback URL is <c>https://{host}/admin/callback</c>. Empty: no OIDC sign-in.
    /// </summary>
    public string? ClientId { get; set; }

    /// <summary>
    /// Space-separated scopes the page asks for. Default: <c>openid</c> and <c>customers:read customers:write</c>, each
    /// with <c>Auth:Jwt:ScopePrefix</c> in front (Cognito resource-server scopes). Add <c>customers:erase</c> only for
    /// staff who handle data-subject requests.
    /// </summary>
    public string? Scopes { get; set; }

    /// <summary>
    /// The page's callback URL exactly as registered with the issuer, e.g. <c>https://customers.example.com/admin/callback</c>.
    /// Default: built from each request's scheme and host, which is right when forwarded headers reach the service from
    /// <c>Network:KnownProxies</c>/<c>KnownNetworks</c>; set it when a proxy rewrites the host or the scheme is not forwarded.
    /// </summary>
    public Uri? RedirectUri { get; set; }

    /// <summary>The scopes to request: <see cref="Scopes"/>, or the default built from <paramref name="jwt"/>'s prefix.</summary>
    internal string ScopesFor(JwtOptions jwt)
    {
        if (!string.IsNullOrWhiteSpace(Scopes))
        {
            return string.Join(' ', Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        }

        var prefix = jwt.ScopePrefix ?? "";
        return $"openid {prefix}{Auth.Scopes.Read} {prefix}{Auth.Scopes.Write}";
    }
}

/// <summary>Start-up validation of <see cref="AdminOptions"/> against <see cref="AuthOptions"/>. Messages name settings, never values.</summary>
internal sealed class AdminOptionsValidator(IOptions<AuthOptions> auth) : IValidateOptions<AdminOptions>
{
    public ValidateOptionsResult Validate(string? name, AdminOptions options)
    {
        var failures = new List<string>();
        var jwt = auth.Value.Jwt;
        var hasClient = !string.IsNullOrWhiteSpace(options.ClientId);
        if (hasClient && !auth.Value.JwtEnabled)
        {
            failures.Add("Auth:Admin:ClientId is set but Auth:Jwt:Authority is not; the admin page signs in at the issuer of Auth:Jwt:Authority.");
        }

        if (hasClient && options.ClientId!.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            failures.Add("Auth:Admin:ClientId must be one OAuth client id without spaces.");
        }

        if (!string.IsNullOrWhiteSpace(options.Scopes) && !hasClient)
        {
            failures.Add("Auth:Admin:Scopes is set but Auth:Admin:ClientId is not; set the page's OAuth client id too.");
        }

        if (options.Scopes is { } scopes && scopes.Any(char.IsControl))
        {
            failures.Add("Auth:Admin:Scopes must be scope names separated by spaces.");
        }

        if (options.RedirectUri is { } redirect
            && (!redirect.IsAbsoluteUri || (redirect.Scheme != Uri.UriSchemeHttps && (jwt.RequireHttpsMetadata || redirect.Scheme != Uri.UriSchemeHttp))
                || !redirect.AbsolutePath.EndsWith(AdminApi.CallbackPath, StringComparison.Ordinal) || !string.IsNullOrEmpty(redirect.Query) || !string.IsNullOrEmpty(redirect.Fragment)))
        {
            failures.Add($"Auth:Admin:RedirectUri must be an absolute https:// URL ending in {AdminApi.CallbackPath}, without query or fragment (the callback URL registered for the page's client).");
        }

        if (options.RedirectUri is not null && !hasClient)
        {
            failures.Add("Auth:Admin:RedirectUri is set but Auth:Admin:ClientId is not; set the page's OAuth client id too.");
        }

        // Cognito access tokens carry the client id of the app that asked for them: with AudienceFromClientId the
        // service accepts Auth:Jwt:Audience only, so a different page client would sign in and then get 401 everywhere.
        if (hasClient && auth.Value.JwtEnabled && jwt.AudienceFromClientId && !string.Equals(options.ClientId, jwt.Audience, StringComparison.Ordinal))
        {
            failures.Add("Auth:Admin:ClientId must equal Auth:Jwt:Audience when Auth:Jwt:AudienceFromClientId is true (the service accepts access tokens of that app client only).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
