using StreamDetect.Models.Features;

namespace StreamDetect.Models.Sequence;

/// <summary>
/// The per-event surprises a next-event detector keeps for a user: the last N, newest last, NaN where an
/// event was not scored (context-only). The user's score is the mean of the largest few, which holds a
/// burst of unexpected events for N events and lets one rare-but-normal event count only a fraction.
/// </summary>
internal static class SurpriseRing
{
    /// <summary>Shifts the ring left by one and puts <paramref name="surprise"/> last.</summary>
    public static void Push(Span<float> ring, float surprise)
    {
        ring[1..].CopyTo(ring);
        ring[^1] = surprise;
    }

    /// <summary>
    /// Mean of the <paramref name="top"/> largest surprises of events no older than <paramref name="horizonMs"/>
    /// before the newest entry of <paramref name="window"/> (ring position q is the event R-1-q places before the
    /// newest; positions older than the window count as too old). 0 when there are none.
    /// </summary>
    public static double TopMean(ReadOnlySpan<float> ring, int top, ReadOnlySpan<WindowEntry> window, long horizonMs)
    {
        if (horizonMs <= 0) return TopMean(ring, top);
        // The values TopMean(ring, top) would see with the too-old positions set to NaN, in the same order.
        Span<float> best = stackalloc float[top];
        int count = 0;
        long newest = window[^1].TimestampMs;
        int offset = window.Length - ring.Length; // window index of ring position q: q + offset
        for (int q = Math.Max(0, -offset); q < ring.Length; q++)
        {
            float v = ring[q];
            if (float.IsNaN(v) || newest - window[q + offset].TimestampMs > horizonMs) continue;
            Offer(best, ref count, v);
        }
        return Mean(best, count);
    }

    /// <summary>Mean of the <paramref name="top"/> largest finite values (0 when there are none).</summary>
    public static double TopMean(ReadOnlySpan<float> ring, int top)
    {
        Span<float> best = stackalloc float[top];
        int count = 0;
        foreach (float v in ring)
        {
            if (float.IsNaN(v)) continue;
            Offer(best, ref count, v);
        }
        return Mean(best, count);
    }

    /// <summary>Keeps the largest values offered: the first fill the slots, then a larger one replaces the smallest slot.</summary>
    private static void Offer(Span<float> best, ref int count, float v)
    {
        int top = best.Length;
        if (count < top)
        {
            best[count++] = v;
            return;
        }
        int min = 0;
        for (int k = 1; k < top; k++) if (best[k] < best[min]) min = k;
        if (v > best[min]) best[min] = v;
    }

    /// <summary>The mean of the slots in slot order (0 when empty).</summary>
    private static double Mean(ReadOnlySpan<float> best, int count)
    {
        if (count == 0) return 0;
        double sum = 0;
        for (int k = 0; k < count; k++) sum += best[k];
        return sum / count;
    }

    /// <summary>Writes the ring positions of the largest finite values into <paramref name="best"/>, largest first
    /// (newer first on ties); returns how many were written.</summary>
    public static int TopPositions(ReadOnlySpan<float> ring, Span<int> best)
    {
        int top = best.Length, count = 0;
        for (int q = ring.Length - 1; q >= 0 && top > 0; q--)
        {
            float v = ring[q];
            if (float.IsNaN(v)) continue;
            int at = count < top ? count++ : top;
            if (at == top)
            {
                if (v <= ring[best[top - 1]]) continue;
                at = top - 1;
            }
            while (at > 0 && ring[best[at - 1]] < v)
            {
                best[at] = best[at - 1];
                at--;
            }
            best[at] = q;
        }
        return count;
    }
}
