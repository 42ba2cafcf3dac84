using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Api.Auth;

/// <summary>Requires one scope, from an API key's grants or a token's <c>scope</c>/<c>scp</c> claim.</summary>
internal sealed class ScopeRequirement(string scope) : IAuthorizationRequirement
{
    public string Scope { get; } = scope;
}

/// <summary>Grants anonymous callers everything while the service runs open (no authentication configured).</summary>
internal sealed class OpenModeRequirement : IAuthorizationRequirement;

internal sealed class ScopeAuthorization(IOptionsMonitor<AuthOptions> auth) :
    AuthorizationHandler<ScopeRequirement>
{
    /// <summary>Claim type under which API-key principals carry their scopes (one claim per scope).</summary>
    public const string ApiKeyScopeClaim = "scope";

    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ScopeRequirement requirement)
    {
        if (context.User.Identity?.IsAuthenticated == true && HasScope(context.User, requirement.Scope, auth.CurrentValue.Jwt))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }

    // Runs on every authorized request: no allocation (the space-separated values are compared as spans).
    internal static bool HasScope(ClaimsPrincipal user, string scope, JwtOptions jwt)
    {
        var customClaim = string.IsNullOrWhiteSpace(jwt.ScopeClaim) ? null : jwt.ScopeClaim;
        var prefix = jwt.ScopePrefix;
        foreach (var claim in user.Claims)
        {
            var isScopeClaim = customClaim is null
                ? claim.Type is "scope" or "scp"
                : string.Equals(claim.Type, customClaim, StringComparison.Ordinal);
            if (!isScopeClaim)
            {
                continue;
            }

            var values = claim.Value.AsSpan();
            foreach (var range in values.Split(' '))
            {
                var value = values[range];
                if (value.SequenceEqual(scope)
                    || (!string.IsNullOrEmpty(prefix) && value.Length == prefix.Length + scope.Length
                        && value.StartsWith(prefix, StringComparison.Ordinal) && value[prefix.Length..].SequenceEqual(scope)))
                {
                    return true;
                }
            }
        }

        return false;
    }
}

internal sealed class OpenModeAuthorization(IOptionsMonitor<AuthOptions> auth) : AuthorizationHandler<OpenModeRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, OpenModeRequirement requirement)
    {
        if (!auth.CurrentValue.AuthenticationConfigured)
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
