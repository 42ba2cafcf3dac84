namespace CustomerRecords.Api.Data;

/// <summary>Times as the database keeps them.</summary>
internal static class StoredClock
{
    /// <summary>UTC now at the microsecond precision every engine stores, so what we return is what we stored.</summary>
    public static DateTime Now(TimeProvider clock)
    {
        var ticks = clock.GetUtcNow().UtcTicks;
        return new DateTime(ticks - (ticks % 10), DateTimeKind.Utc);
    }
}
