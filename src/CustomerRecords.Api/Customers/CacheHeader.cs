namespace CustomerRecords.Api.Customers;

internal static class CacheHeader
{
    public const string Name = "X-Cache";

    /// <summary>Adds <c>X-Cache: hit|miss</c> when <paramref name="enabled"/> (caching on and <c>Cache:CacheHeader</c> allows it).</summary>
    /// <remarks>The setting is read once by <see cref="CustomerCache"/> (or <see cref="NoCustomerCache"/>): no options lookup per request.</remarks>
    public static void MarkCache(this HttpContext http, bool enabled, bool hit)
    {
        if (enabled)
        {
            http.Response.Headers[Name] = hit ? "hit" : "miss";
        }
    }
}
