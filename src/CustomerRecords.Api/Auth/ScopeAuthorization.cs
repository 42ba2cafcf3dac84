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

    internal static bool HasScope(ClaimsPrincipal user, string scope, JwtOptions jwt)
    {
        var prefixed = string.IsNullOrEmpty(jwt.ScopePrefix) ? null : jwt.ScopePrefix + scope;
        var claimTypes = string.IsNullOrWhiteSpace(jwt.ScopeClaim) ? ["scope", "scp"] : new[] { jwt.ScopeClaim };
        foreach (var claim in user.Claims)
        {
            if (!claimTypes.Contains(claim.Type, StringComparer.Ordinal))
            {
                continue;
            }

            foreach (var value in claim.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (value == scope || (prefixed is not null && value == prefixed))
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
