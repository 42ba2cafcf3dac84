using System.Diagnostics;

namespace CustomerRecords.Tests.Caching;

/// <summary>Bounded polling for what is eventually consistent (backplane messages, repairs, reconnects).</summary>
public static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> until it holds; returns how long that took, fails the test after <paramref name="bound"/>.</summary>
    public static async Task<TimeSpan> WithinAsync(TimeSpan bound, string what, Func<Task<bool>> condition, TimeSpan? interval = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await condition())
            {
                return clock.Elapsed;
            }

            if (clock.Elapsed > bound)
            {
                Assert.Fail($"{what}: not within {bound.TotalSeconds:0.###} s.");
            }

            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(5));
        }
    }
}
