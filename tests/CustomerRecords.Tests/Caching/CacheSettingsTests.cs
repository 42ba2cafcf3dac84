using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.Caching;

public sealed class CacheSettingsTests
{
    [Fact]
    public async Task TheOldFailSafeSettingNameIsRefusedNamingItsNewName()
    {
        // FusionCache's FailSafeMaxDuration is an entry's whole lifetime; ours is the time past expiry.
        var settings = CustomerApiFactory.SqliteSettings(TempDirectory.ForRun());
        settings["Cache:FailSafeMaxDuration"] = "00:10:00";
        await using var factory = new CustomerApiFactory(settings);

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("Cache:FailSafeGracePeriod", error.ToString(), StringComparison.Ordinal);
    }
}
