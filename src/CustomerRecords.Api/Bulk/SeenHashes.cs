namespace CustomerRecords.Api.Bulk;

/// <summary>
/// A set of 64-bit hashes for the import's duplicate check: open addressing in one array, 8 bytes a slot, at most
/// three quarters full (10.7–21 bytes a value; <see cref="HashSet{T}"/> of <see cref="ulong"/> takes 20–40 plus
/// the old arrays of each growth). The values are hashes already, so a slot is their own bits.
/// </summary>
internal sealed class SeenHashes
{
    private ulong[] _slots = new ulong[1 << 10];
    private int _shift = 64 - 10;
    private int _count;

    /// <summary>True when <paramref name="value"/> was not in the set (and is now).</summary>
    public bool Add(ulong value)
    {
        // 0 marks a free slot; the value 0 shares its bits with 1 (a hash of 0 is as rare as any other).
        value = value == 0 ? 1 : value;
        if ((_count + 1) * 4L > _slots.Length * 3L)
        {
            Grow();
        }

        if (!Insert(_slots, _shift, value))
        {
            return false;
        }

        _count++;
        return true;
    }

    public int Count => _count;

    private static bool Insert(ulong[] slots, int shift, ulong value)
    {
        var mask = slots.Length - 1;
        // Fibonacci hashing: the top bits of the product spread values whose low bits are alike (ids 1, 2, 3…).
        var i = (int)((value * 11400714819323198485UL) >> shift);
        while (slots[i] != 0)
        {
            if (slots[i] == value)
            {
                return false;
            }

            i = (i + 1) & mask;
        }

        slots[i] = value;
        return true;
    }

    private void Grow()
    {
        var larger = new ulong[_slots.Length * 2];
        _shift--;
        foreach (var value in _slots)
        {
            if (value != 0)
            {
                Insert(larger, _shift, value);
            }
        }

        _slots = larger;
    }
}
