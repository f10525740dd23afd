using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace StreamDetect.Models.Baselines;

/// <summary>
/// The largest |x| of a row, as the z-score baseline scores and explains them. <see cref="Select"/> is the
/// definition: the first values fill the slots, then a larger |x| replaces the smallest slot (the first of equal
/// ones), and the score adds the slots up in slot order. <see cref="TrySum"/> gets the same sum without the slots
/// when it can prove that the order of the additions does not matter.
/// </summary>
internal static class LargestMagnitudes
{
    /// <summary>
    /// The features with the largest |x| of a row: their indices in <paramref name="best"/> and their |x| in
    /// <paramref name="values"/>, in slot order; returns how many (the slots, or the row's length if shorter). The
    /// smallest slot is looked up again only after a replacement, and a vector of values below it is skipped at once.
    /// </summary>
    public static int Select(ReadOnlySpan<float> row, Span<int> best, Span<float> values)
    {
        int top = best.Length, filled = Math.Min(top, row.Length);
        for (int j = 0; j < filled; j++)
        {
            best[j] = j;
            values[j] = Math.Abs(row[j]);
        }
        if (filled < top || top == 0) return filled;
        int min = SmallestSlot(values);
        float smallest = values[min];
        int lanes = Vector<float>.Count;
        for (int j = top; j < row.Length; j++)
        {
            if ((j & (lanes - 1)) == 0 && j + lanes <= row.Length
                && !Vector.GreaterThanAny(Vector.Abs(new Vector<float>(row.Slice(j, lanes))), new Vector<float>(smallest)))
            {
                j += lanes - 1;
                continue;
            }
            float z = Math.Abs(row[j]);
            if (!(z > smallest)) continue;
            best[min] = j;
            values[min] = z;
            min = SmallestSlot(values);
            smallest = values[min];
        }
        return filled;
    }

    /// <summary>The sum, in slot order, of what <see cref="Select"/> picks (0 for an empty row).</summary>
    public static double SlotSum(ReadOnlySpan<float> row, int top)
    {
        Span<int> best = stackalloc int[top];
        Span<float> values = stackalloc float[top];
        int filled = Select(row, best, values);
        double sum = 0;
        for (int q = 0; q < filled; q++) sum += values[q];
        return sum;
    }

    /// <summary>
    /// The sum of the <paramref name="top"/> largest |x| of a row (every |x| when the row is shorter), equal to
    /// <see cref="SlotSum"/> to the bit, without finding which of equal values the slots hold. Returns false (and
    /// the caller takes <see cref="SlotSum"/>) when that equality is not certain.
    /// <para>
    /// Why it is the same: the slots always hold the largest values seen (equal values may swap, the values do
    /// not change), so the slots end up holding the multiset of the <paramref name="top"/> largest |x|. Their sum
    /// in double is the same in every order when every partial sum is exact: each value is a multiple of the ulp u
    /// of the smallest non-zero one (u = 2^(e-23) for a float in [2^e, 2^(e+1))), every partial sum is a multiple of
    /// u below top x max, and a double holds every multiple of u below 2^53 u. That holds when
    /// top x max &lt; smallest x 2^29 (smallest &lt; 2^(e+1), so smallest x 2^29 &lt; u x 2^53).
    /// </para>
    /// </summary>
    public static bool TrySum(ReadOnlySpan<float> row, int top, out double sum)
    {
        sum = 0;
        const int Lanes = 8;
        if (!Vector256.IsHardwareAccelerated || top < 1 || row.Length > 512) return false;
        int chunks = (row.Length + Lanes - 1) / Lanes;
        Span<float> magnitudes = stackalloc float[chunks * Lanes];
        ref float x = ref MemoryMarshal.GetReference(row);
        ref float a = ref MemoryMarshal.GetReference(magnitudes);
        var max = Vector256<float>.Zero;
        var ordered = Vector256<float>.AllBitsSet;
        int full = row.Length - row.Length % Lanes;
        for (int c = 0; c < full; c += Lanes)
        {
            var v = Vector256.Abs(Vector256.LoadUnsafe(ref x, (nuint)c));
            v.StoreUnsafe(ref a, (nuint)c);
            max = Vector256.Max(max, v);
            ordered &= Vector256.Equals(v, v);
        }
        if (full < row.Length)
        {
            for (int j = full; j < row.Length; j++) magnitudes[j] = Math.Abs(row[j]);
            magnitudes[row.Length..].Clear(); // zeros: never at or above a positive threshold
            var v = Vector256.LoadUnsafe(ref a, (nuint)full);
            max = Vector256.Max(max, v);
            ordered &= Vector256.Equals(v, v);
        }
        if (ordered.ExtractMostSignificantBits() != 0xFF) return false; // a NaN
        float largest = 0;
        for (int q = 0; q < Lanes; q++) largest = MathF.Max(largest, max.GetElement(q));
        if (!float.IsFinite(largest)) return false;
        if (largest == 0) return true; // every slot holds a zero

        // The binade [lo, hi) that holds the top-th largest value: everything at or above hi is in the top, and the
        // rest of the top is the largest values of that binade. With no more non-zero values than slots, the top
        // is every non-zero value (and zeros).
        float lo, hi = float.PositiveInfinity;
        int above = 0, atOrAbove = Count(magnitudes, float.Epsilon);
        if (atOrAbove <= top)
        {
            lo = float.Epsilon;
        }
        else
        {
            int exponent = BitConverter.SingleToInt32Bits(largest) >> 23;
            for (int d = 0; ; d++)
            {
                if (d > 30 || exponent - d < 1) return false; // too wide to be exact, or subnormal
                float threshold = BitConverter.Int32BitsToSingle((exponent - d) << 23);
                int count = Count(magnitudes, threshold);
                if (count >= top)
                {
                    lo = threshold;
                    atOrAbove = count;
                    break;
                }
                hi = threshold;
                above = count;
            }
        }
        int need = Math.Min(top, atOrAbove) - above;
        Span<float> picked = stackalloc float[need];
        int picks = 0;
        double total = 0;
        var low = Vector256.Create(lo);
        for (int c = 0; c < magnitudes.Length; c += Lanes)
        {
            uint mask = Vector256.GreaterThanOrEqual(Vector256.LoadUnsafe(ref a, (nuint)c), low).ExtractMostSignificantBits();
            while (mask != 0)
            {
                float v = magnitudes[c + BitOperations.TrailingZeroCount(mask)];
                mask &= mask - 1;
                if (v >= hi)
                {
                    total += v;
                    continue;
                }
                // The need largest of the binade, largest first.
                if (picks == need && !(v > picked[need - 1])) continue;
                int at = picks < need ? picks++ : need - 1;
                while (at > 0 && picked[at - 1] < v)
                {
                    picked[at] = picked[at - 1];
                    at--;
                }
                picked[at] = v;
            }
        }
        for (int q = 0; q < picks; q++) total += picked[q];
        if (picks != need || !((double)Math.Min(top, row.Length) * largest < picked[need - 1] * 536870912.0)) return false; // 2^29
        sum = total;
        return true;
    }

    private static int Count(Span<float> magnitudes, float threshold)
    {
        ref float a = ref MemoryMarshal.GetReference(magnitudes);
        var t = Vector256.Create(threshold);
        int count = 0;
        for (int c = 0; c < magnitudes.Length; c += 8)
            count += BitOperations.PopCount(Vector256.GreaterThanOrEqual(Vector256.LoadUnsafe(ref a, (nuint)c), t).ExtractMostSignificantBits());
        return count;
    }

    private static int SmallestSlot(ReadOnlySpan<float> values)
    {
        int min = 0;
        for (int q = 1; q < values.Length; q++) if (values[q] < values[min]) min = q;
        return min;
    }
}
