using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerRecords.Tests.Caching;

/// <summary>
/// Totals of one host's <c>customer_records.cache.*</c> counters. Every host creates its meter
/// through its own <see cref="IMeterFactory"/>, so instruments are told apart by their meter's
/// scope: two instances in one process (and other tests' hosts) never mix.
/// </summary>
public sealed class CacheCounters : IDisposable
{
    private const string Prefix = "customer_records.cache.";
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _totals = new(StringComparer.Ordinal);

    public CacheCounters(IServiceProvider hostServices)
    {
        var meters = hostServices.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, meters) && instrument.Name.StartsWith(Prefix, StringComparison.Ordinal))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            _totals.AddOrUpdate(instrument.Name, value, (_, total) => total + value));
        _listener.Start();
    }

    public long Hits => Total("hits");

    public long Misses => Total("misses");

    public long Sets => Total("sets");

    public long Removals => Total("removals");

    public void Dispose() => _listener.Dispose();

    private long Total(string name) => _totals.GetValueOrDefault(Prefix + name);
}
