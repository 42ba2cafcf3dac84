namespace CustomerRecords.Api.Customers;

/// <summary>Runs the delayed repairs the customer cache schedules after each write.</summary>
internal sealed class CustomerCacheRepairService(ICustomerCache cache, CustomerStore store) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        cache.RunRepairsAsync(store.GetEntriesFromWriterAsync, stoppingToken);
}
