using Microsoft.Net.Http.Headers;

namespace CustomerRecords.Api.Hosting;

/// <summary>Security headers on every response; the CSP is relaxed only for the docs UI under <c>/docs</c>.</summary>
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

    public Task InvokeAsync(HttpContext context)
    {
        context.Response.OnStarting(static state =>
        {
            var http = (HttpContext)state;
            var headers = http.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers.ContentSecurityPolicy = http.Request.Path.StartsWithSegments("/docs") ? DocsCsp : ApiCsp;
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
