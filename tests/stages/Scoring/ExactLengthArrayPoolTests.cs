using StreamDetect.Stages.Scoring;

namespace StreamDetect.Stages.Tests.Scoring;

public sealed class ExactLengthArrayPoolTests
{
    [Fact]
    public void Rent_gives_an_array_of_exactly_the_length_asked_and_a_returned_array_of_that_length_again()
    {
        var pool = new ExactLengthArrayPool<float>(maxLength: 100);
        var first = pool.Rent(37);
        Assert.Equal(37, first.Length);
        pool.Return(first);
        Assert.NotSame(first, pool.Rent(36));
        Assert.Same(first, pool.Rent(37));
        Assert.NotSame(first, pool.Rent(37));
    }

    [Fact]
    public void Lengths_above_the_maximum_are_allocated_and_never_kept()
    {
        var pool = new ExactLengthArrayPool<long>(maxLength: 8);
        var big = pool.Rent(9);
        Assert.Equal(9, big.Length);
        pool.Return(big);
        Assert.NotSame(big, pool.Rent(9));
        Assert.Empty(pool.Rent(0));
    }

    [Fact]
    public void Arrays_holding_references_are_cleared_when_returned()
    {
        var pool = new ExactLengthArrayPool<string?>(maxLength: 4);
        var devices = pool.Rent(2);
        devices[0] = "phone";
        devices[1] = "laptop";
        pool.Return(devices);
        var again = pool.Rent(2);
        Assert.Same(devices, again);
        Assert.All(again, Assert.Null);
    }

    [Fact]
    public void Each_length_keeps_at_most_its_share_of_arrays()
    {
        // 1 MiB per length, 16 arrays at least: 16 arrays of 128 KiB each are kept, a 17th is dropped.
        var pool = new ExactLengthArrayPool<byte>(maxLength: 1 << 17);
        var arrays = Enumerable.Range(0, 17).Select(_ => pool.Rent(1 << 17)).ToArray();
        foreach (var array in arrays) pool.Return(array);
        var rented = Enumerable.Range(0, 17).Select(_ => pool.Rent(1 << 17)).ToArray();
        Assert.Equal(16, rented.Count(r => arrays.Contains(r)));
    }
}
