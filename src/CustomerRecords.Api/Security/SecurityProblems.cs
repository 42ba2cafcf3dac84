using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Api.Security;

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

            await SecurityProblems.WriteAsync(context, StatusCodes.Status401Unauthorized, "Unauthorized",
                "Missing or invalid credentials. Send a bearer token in Authorization or an API key in X-Api-Key.");
        }
        else if (authorizeResult.Forbidden)
        {
            await SecurityProblems.WriteAsync(context, StatusCodes.Status403Forbidden, "Forbidden",
                "The credentials are valid but lack the scope this operation requires.");
        }
    }
}

internal static class SecurityProblems
{
    public static Task WriteAsync(HttpContext context, int status, string title, string detail)
    {
        context.Response.StatusCode = status;
        return TypedResults.Problem(detail: detail, statusCode: status, title: title).ExecuteAsync(context);
    }
}
