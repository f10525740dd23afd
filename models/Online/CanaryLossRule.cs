namespace StreamDetect.Models.Online;

/// <summary>
/// The canary-recall gate's rule (<see cref="PromotionGates.CanaryRecall"/>): how many canaries a candidate may lose
/// against the champion on the same n canary users. Both are measured on the same users, so the comparison is paired:
/// <c>lost</c> canaries are caught by the champion and missed by the candidate, <c>gained</c> the reverse, and the net
/// loss is <c>lost - gained</c>. The candidate fails only when its net loss is
/// <list type="bullet">
/// <item>more than <see cref="OnlineLearningOptions.CanaryRecallDrop"/> x n canaries (rounded down): a loss too small to
/// matter is allowed however many canaries measure it; and</item>
/// <item>significant: the exact one-sided sign test (McNemar's exact test) on the <c>lost + gained</c> canaries that
/// changed, P(X &gt;= lost) with X ~ Binomial(lost + gained, 1/2), is at most
/// <see cref="OnlineLearningOptions.CanarySignificance"/>: a loss that a candidate as good as the champion would show
/// by chance (scores moving near the threshold) is no evidence that it lost recall.</item>
/// </list>
/// With the defaults (drop 0.02, significance 0.05) and no canary gained, a candidate may lose max(4, floor(0.02 n))
/// canaries: 4 of 100 (P = 1/16 at 4 lost, 1/32 at 5), 20 of 1,000; with canaries gained it may lose more, as many as
/// chance allows (n = 100, 2 gained: 8 lost pass, P = 0.055; 9 fail, P = 0.033). Significance 1 is the plain
/// rule (any net loss above the drop fails).
/// </summary>
public static class CanaryLossRule
{
    /// <summary>P(X &gt;= <paramref name="lost"/>) for X ~ Binomial(lost + gained, 1/2): how likely a loss this large is
    /// when each changed canary is as likely lost as gained. 1 when nothing changed.</summary>
    public static double SignTestP(int lost, int gained)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lost);
        ArgumentOutOfRangeException.ThrowIfNegative(gained);
        int m = lost + gained;
        if (lost == 0) return 1.0;
        // Sum of C(m, k) / 2^m for k = lost..m, in log space (m may be large).
        double logHalf = m * Math.Log(0.5);
        double logChoose = LogChoose(m, lost);
        double sum = 0;
        for (int k = lost; k <= m; k++)
        {
            sum += Math.Exp(logChoose + logHalf);
            logChoose += Math.Log(m - k) - Math.Log(k + 1);
        }
        return Math.Min(1.0, sum);
    }

    /// <summary>Whether a candidate that lost <paramref name="lost"/> and gained <paramref name="gained"/> of
    /// <paramref name="canaries"/> canaries passes (see the type's summary).</summary>
    public static bool Passes(int lost, int gained, int canaries, double drop, double significance)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(canaries, 1);
        int net = lost - gained;
        if (net <= AllowedByDrop(canaries, drop)) return true;
        return SignTestP(lost, gained) > significance;
    }

    /// <summary>The most canaries a candidate that gained <paramref name="gained"/> may lose and still pass (at most
    /// <c>canaries - gained</c>).</summary>
    public static int MostLost(int gained, int canaries, double drop, double significance)
    {
        // Passing is monotone in lost (the net loss grows, the sign test's P falls): binary search.
        int low = 0, high = Math.Max(0, canaries - gained);
        if (Passes(high, gained, canaries, drop, significance)) return high;
        while (high - low > 1)
        {
            int mid = low + (high - low) / 2;
            if (Passes(mid, gained, canaries, drop, significance)) low = mid; else high = mid;
        }
        return low;
    }

    /// <summary>Net loss the drop alone allows: <c>floor(drop x n)</c> whole canaries.</summary>
    public static int AllowedByDrop(int canaries, double drop) => (int)Math.Floor(drop * canaries + 1e-9);

    private static double LogChoose(int m, int k)
    {
        k = Math.Min(k, m - k);
        double value = 0;
        for (int i = 1; i <= k; i++) value += Math.Log(m - k + i) - Math.Log(i);
        return value;
    }
}
