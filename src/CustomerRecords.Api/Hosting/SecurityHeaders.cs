using Microsoft.Net.Http.Headers;

namespace CustomerRecords.Api.Hosting;

/// <summary>Security headers on every response; the CSP is relaxed only for the docs UI under <c>/docs</c> and the admin page under <c>/admin</c>.</summary>
internal sealed class SecurityHeadersMiddleware(RequestDelegate next)
{
    /// <summary>A JSON API loads nothing and may not be framed.</summary>
    internal const string ApiCsp = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    /// <summary>
    /// The Scalar UI at /docs serves its scripts from this origin but runs an inline module script and inline
    /// styles, and fetches the OpenAPI document and sends "try it" requests to this origin. It loads nothing
    /// from another origin (Docs/ApiDocs turns off Scalar's font CDN, telemetry and hosted services).
    /// </summary>
    internal const string DocsCsp =
        "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; " +
        "font-src 'self' data:; img-src 'self' data: blob:; connect-src 'self'; worker-src 'self' blob:; " +
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    /// <summary>
    /// The admin page under /admin: its own scripts and styles only (ES modules, no inline code or style attributes),
    /// calls to this origin, and no string-to-code DOM sinks (Trusted Types with no policy). An endpoint may set
    /// <see cref="AdminCsp(Uri?)"/> with the OIDC token endpoint itself; otherwise this one applies.
    /// </summary>
    internal static string AdminCsp(Uri? tokenEndpoint = null) =>
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
        "connect-src 'self'" + (tokenEndpoint is null ? "" : " " + tokenEndpoint.GetLeftPart(UriPartial.Authority)) + "; " +
        "require-trusted-types-for 'script'; trusted-types 'none'; " +
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    public Task InvokeAsync(HttpContext context)
    {
        context.Response.OnStarting(static state =>
        {
            var http = (HttpContext)state;
            var headers = http.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            var path = http.Request.Path;
            if (path.StartsWithSegments("/admin"))
            {
                // The admin shell sets AdminCsp with the OIDC token endpoint's origin itself; every other /admin response gets the plain one.
                if (!headers.ContainsKey(HeaderNames.ContentSecurityPolicy))
                {
                    headers.ContentSecurityPolicy = AdminCsp();
                }
            }
            else
            {
                headers.ContentSecurityPolicy = path.StartsWithSegments("/docs") ? DocsCsp : ApiCsp;
            }
            // Responses carry personal data: no shared or browser cache keeps them unless an endpoint says otherwise.
            if (!headers.ContainsKey(HeaderNames.CacheControl))
            {
                headers.CacheControl = "no-store";
            }

            return Task.CompletedTask;
        }, context);
        return next(context);
    }
}
