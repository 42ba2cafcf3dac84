using System.Collections.Concurrent;

namespace CustomerRecords.Api.Data;

/// <summary>Ids this instance wrote in the last <c>window</c>: their reads go to the writer, so a client reads its own writes despite replica lag.</summary>
internal sealed class RecentWrites(TimeProvider clock, TimeSpan window)
{
    private readonly ConcurrentDictionary<int, long> _until = new();
    private readonly long _windowTicks = (long)(window.TotalSeconds * clock.TimestampFrequency);
    private int _writesSincePrune;

    public void Add(int id)
    {
        if (_windowTicks <= 0)
        {
            return;
        }

        var now = clock.GetTimestamp();
        _until[id] = now + _windowTicks;

        // Forget expired ids now and then, so the map holds about one window's worth of writes.
        if (Interlocked.Increment(ref _writesSincePrune) % 1024 == 0)
        {
            foreach (var (key, until) in _until)
            {
                if (until < now)
                {
                    _until.TryRemove(new KeyValuePair<int, long>(key, until));
                }
            }
        }
    }

    public bool Contains(int id) => _until.TryGetValue(id, out var until) && until >= clock.GetTimestamp();
}
