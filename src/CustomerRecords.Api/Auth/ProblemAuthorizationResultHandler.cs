using CustomerRecords.Api.Errors;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Api.Auth;

/// <summary>
/// Turns the authorization middleware's bare 401/403 into RFC 9457 problem documents. The challenge itself
/// (status and <c>WWW-Authenticate</c>) is still issued by the authentication handlers.
/// </summary>
internal sealed class ProblemAuthorizationResultHandler(IOptionsMonitor<AuthOptions> auth) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        await _default.HandleAsync(next, context, policy, authorizeResult);
        if (context.Response.HasStarted)
        {
            return;
        }

        if (authorizeResult.Challenged)
        {
            // The policy scheme forwarded the challenge to one scheme; offer the other one too.
            var options = auth.CurrentValue;
            if (options.ApiKeysEnabled && options.JwtEnabled && !context.Request.Headers.ContainsKey(ApiKeyAuthenticationHandler.HeaderName))
            {
                context.Response.Headers.Append("WWW-Authenticate", ApiKeyAuthenticationHandler.ChallengeValue);
            }

            if (context.Response.Headers.WWWAuthenticate.Count == 0)
            {
                context.Response.Headers.WWWAuthenticate = options.JwtEnabled ? "Bearer" : ApiKeyAuthenticationHandler.ChallengeValue;
            }

            await Problems.WriteAsync(context, Problems.Unauthorized());
        }
        else if (authorizeResult.Forbidden)
        {
            await Problems.WriteAsync(context, Problems.Forbidden());
        }
    }
}
