using System.Runtime.CompilerServices;

namespace StreamDetect.Stages.Scoring;

/// <summary>
/// Arrays of exactly the length asked for, kept for reuse. A scoring request's arrays must have their exact
/// lengths (the codec writes them, <c>ScoringInput.Validate</c> checks them), which the shared
/// <see cref="System.Buffers.ArrayPool{T}"/> does not give. Each length keeps at most about
/// <see cref="BytesPerLength"/> bytes of arrays (at least 16, at most 1024 arrays); lengths above the pool's
/// maximum are allocated and never kept. Rented arrays are not cleared: the renter overwrites every element.
/// Returned arrays of a type holding references are cleared, so the pool keeps no strings alive. Thread-safe.
/// </summary>
public sealed class ExactLengthArrayPool<T>
{
    private const int BytesPerLength = 1 << 20;
    private readonly Bucket?[] _buckets;

    /// <param name="maxLength">The longest length kept.</param>
    public ExactLengthArrayPool(int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxLength);
        _buckets = new Bucket?[maxLength + 1];
    }

    /// <summary>An array of <paramref name="length"/> elements (a returned one when the pool holds one), contents undefined.</summary>
    public T[] Rent(int length)
    {
        if (length == 0) return [];
        if (length >= _buckets.Length) return new T[length];
        var bucket = BucketFor(length);
        lock (bucket.Arrays)
            if (bucket.Arrays.Count > 0) return bucket.Arrays.Pop();
        return new T[length];
    }

    /// <summary>An array holding a copy of <paramref name="source"/> (rented: <see cref="Rent"/>).</summary>
    public T[] RentCopyOf(ReadOnlySpan<T> source)
    {
        var copy = Rent(source.Length);
        source.CopyTo(copy);
        return copy;
    }

    /// <summary>
    /// Gives <paramref name="array"/> back; the caller must not use it afterwards, nor return it again before renting it
    /// again. Dropped when its length's share of the pool is full.
    /// </summary>
    public void Return(T[] array)
    {
        int length = array.Length;
        if (length == 0 || length >= _buckets.Length) return;
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>()) Array.Clear(array);
        var bucket = BucketFor(length);
        lock (bucket.Arrays)
            if (bucket.Arrays.Count < bucket.Capacity) bucket.Arrays.Push(array);
    }

    private Bucket BucketFor(int length)
    {
        var bucket = Volatile.Read(ref _buckets[length]);
        if (bucket is not null) return bucket;
        int bytes = Math.Max(1, length * Unsafe.SizeOf<T>());
        var fresh = new Bucket(Math.Clamp(BytesPerLength / bytes, 16, 1024));
        return Interlocked.CompareExchange(ref _buckets[length], fresh, null) ?? fresh;
    }

    private sealed class Bucket(int capacity)
    {
        public int Capacity { get; } = capacity;

        public Stack<T[]> Arrays { get; } = new();
    }
}
