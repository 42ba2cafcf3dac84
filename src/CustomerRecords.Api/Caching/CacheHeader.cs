using Microsoft.Extensions.Options;

namespace CustomerRecords.Api.Caching;

internal static class CacheHeader
{
    public const string Name = "X-Cache";

    /// <summary>Adds <c>X-Cache: hit|miss</c> when caching is on and <c>Cache:CacheHeader</c> allows it.</summary>
    public static void MarkCache(this HttpContext http, bool hit)
    {
        var options = http.RequestServices.GetRequiredService<IOptions<CacheOptions>>().Value;
        if (options.CacheHeader && options.Mode != CacheMode.None)
        {
            http.Response.Headers[Name] = hit ? "hit" : "miss";
        }
    }
}
