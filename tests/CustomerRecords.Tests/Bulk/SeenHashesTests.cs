using CustomerRecords.Api.Bulk;

namespace CustomerRecords.Tests.Bulk;

/// <summary>The import's duplicate check: each value is new once and seen after, through every growth of the table.</summary>
public sealed class SeenHashesTests
{
    [Fact]
    public void EachValueIsNewOnceAndSeenAfterThroughGrowth()
    {
        var seen = new SeenHashes();
        var random = new Random(7);
        var values = Enumerable.Range(0, 200_000).Select(_ => (ulong)random.NextInt64() * 3 + 2)
            // Values alike in their low bits (i << 32), the case a plain modulo table clusters.
            .Concat(Enumerable.Range(1, 50_000).Select(i => (ulong)i << 32))
            .Distinct().ToList();

        Assert.All(values, v => Assert.True(seen.Add(v)));
        Assert.All(values, v => Assert.False(seen.Add(v)));
        Assert.Equal(values.Count, seen.Count);
    }

    [Fact]
    public void ZeroAndOneAreOneValue()
    {
        var seen = new SeenHashes();

        Assert.True(seen.Add(0));
        Assert.False(seen.Add(1));
        Assert.True(seen.Add(ulong.MaxValue));
    }
}
