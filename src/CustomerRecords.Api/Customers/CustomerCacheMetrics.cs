using System.Diagnostics.Metrics;
using CustomerRecords.Api.Operations;

namespace CustomerRecords.Api.Customers;

/// <summary>Cache outcomes as OpenTelemetry counters on the service's meter (one meter per host, so tests can tell hosts apart).</summary>
internal sealed class CustomerCacheMetrics
{
    private readonly Counter<long> _hits;
    private readonly Counter<long> _misses;
    private readonly Counter<long> _sets;
    private readonly Counter<long> _removals;

    public CustomerCacheMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(Telemetry.MeterName);
        _hits = meter.CreateCounter<long>("customer_records.cache.hits", "{request}", "Reads answered from the cache");
        _misses = meter.CreateCounter<long>("customer_records.cache.misses", "{request}", "Reads that went to the database");
        _sets = meter.CreateCounter<long>("customer_records.cache.sets", "{entry}", "Entries written through after a committed write or a repair");
        _removals = meter.CreateCounter<long>("customer_records.cache.removals", "{entry}", "Entries removed after a committed delete");
    }

    public void Hit() => _hits.Add(1);

    public void Miss() => _misses.Add(1);

    public void Set() => _sets.Add(1);

    public void Removal() => _removals.Add(1);
}
