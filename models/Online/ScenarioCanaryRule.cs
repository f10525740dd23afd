namespace StreamDetect.Models.Online;

/// <summary>
/// The canary-recall gate's per-scenario rule (<see cref="PromotionGates.CanaryRecall"/>, beside the pooled
/// <see cref="CanaryLossRule"/>): the pooled rule judges all canaries as one recall, so a candidate that loses every
/// canary of one scenario and gains a few elsewhere passes it (10 of 10 <c>checkout_loop</c> lost, 6 gained elsewhere,
/// 100 canaries: net 4, pooled sign test P 0.23). Measured on the default run with online learning on: the promoted
/// versions lost at most 4 of 100 canaries and still found 3 of 16 <c>checkout_loop</c> attackers (frozen: 16 of 16).
/// So each scenario's canaries are also judged as a group, paired champion against candidate as in the pooled rule:
/// a group fails when its net loss (lost - gained) is both
/// <list type="bullet">
/// <item>large: more than <see cref="OnlineLearningOptions.CanaryScenarioMaxLossShare"/> of the canaries the champion
/// caught in it (rounded down: 0.5 of 10 caught allows a net loss of 5, 6 is large); and</item>
/// <item>significant after the comparison over many groups: the group's exact one-sided sign test P
/// (<see cref="CanaryLossRule.SignTestP"/>) is at most <c>alpha / K</c>, where alpha is
/// <see cref="OnlineLearningOptions.CanaryScenarioSignificance"/> and K is Tarone's count (Tarone 1990, the modified
/// Bonferroni for discrete tests): the smallest K such that at most K groups could reach P &lt;= alpha / K at all (a
/// group where d canaries changed cannot show P below 2^-d, so it does not spend the budget). The candidate as good as
/// the champion is then rejected with probability at most alpha however many scenarios there are.</item>
/// </list>
/// Why Tarone's and not Holm's correction: the gate needs only "does any group fail", and Holm's first step is plain
/// Bonferroni (alpha / 10 for 10 scenarios), which needs 8 of 10 lost (P 2^-8 = 0.0039 &lt;= 0.005) in every case and
/// can never fail a scenario where the champion caught 7 or fewer (7 of 7 lost: P 0.0078). With Tarone's count the
/// groups where few canaries changed (the usual case: a candidate moves some scores near the threshold) do not count.
/// With the defaults (share 0.5, alpha 0.05) and 10 canaries of a scenario all caught by the champion, none gained:
/// 5 lost never fail (not more than half); 6 lost fail (P 2^-6 = 0.016) unless four or more scenarios had 6 or more
/// canaries change (K &gt;= 4, level &lt;= 0.0125); 7 lost (P 0.0078) unless seven or more had 7 or more change; 8 lost
/// (P 0.0039) always fail with up to 12 scenarios (K &lt;= 12). A group whose
/// champion caught 4 or fewer canaries can never fail at alpha 0.05 (4 of 4 lost: P 1/16): the generated canaries give
/// each scenario 10 (<c>min-canary-users</c> 100 over 10 scenarios). Significance 0 (or share 1) switches the rule off:
/// the pooled rule alone.
/// </summary>
public static class ScenarioCanaryRule
{
    /// <summary>Judges each scenario group of canaries (see the type's summary).</summary>
    /// <param name="championCaught">For each canary: whether the champion caught it.</param>
    /// <param name="candidateCaught">The same for the candidate (same canaries, same order).</param>
    /// <param name="scenarios">For each canary: its scenario (the group it is judged in).</param>
    /// <param name="maxLossShare">The share of a group's champion-caught canaries its net loss may reach without failing.</param>
    /// <param name="significance">The chance (over all groups) of failing a candidate as good as the champion; 0: never fails.</param>
    public static ScenarioCanaryVerdict Judge(IReadOnlyList<bool> championCaught, IReadOnlyList<bool> candidateCaught, IReadOnlyList<string> scenarios,
        double maxLossShare, double significance)
    {
        if (championCaught.Count != candidateCaught.Count || scenarios.Count != championCaught.Count)
            throw new ArgumentException("the champion, the candidate and the scenarios must cover the same canaries");
        ArgumentOutOfRangeException.ThrowIfNegative(maxLossShare);
        if (significance is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(significance), significance, "must be in [0, 1]");

        var counts = new SortedDictionary<string, int[]>(StringComparer.Ordinal);
        for (int i = 0; i < scenarios.Count; i++)
        {
            if (!counts.TryGetValue(scenarios[i], out var c)) counts[scenarios[i]] = c = new int[4];
            c[0]++;
            if (championCaught[i]) c[1]++;
            if (championCaught[i] && !candidateCaught[i]) c[2]++;
            if (!championCaught[i] && candidateCaught[i]) c[3]++;
        }
        double level = Level(counts.Values.Select(c => c[2] + c[3]).ToArray(), significance);
        var groups = counts.Select(pair =>
        {
            var (scenario, c) = (pair.Key, pair.Value);
            int champion = c[1], lost = c[2], gained = c[3];
            double p = CanaryLossRule.SignTestP(lost, gained);
            bool large = lost - gained > AllowedLoss(champion, maxLossShare);
            return new ScenarioCanaryGroup(scenario, c[0], champion, lost, gained, p, large, significance > 0 && large && p <= level);
        }).ToArray();
        return new ScenarioCanaryVerdict(groups, level);
    }

    /// <summary>The net loss a group whose champion caught <paramref name="championCaught"/> canaries may show without
    /// failing however significant: <c>floor(share x caught)</c> whole canaries.</summary>
    public static int AllowedLoss(int championCaught, double maxLossShare) => (int)Math.Floor(maxLossShare * championCaught + 1e-9);

    /// <summary>Tarone's level for groups in which <paramref name="changed"/> canaries changed (lost + gained):
    /// <c>alpha / K</c> for the smallest K &gt;= 1 such that at most K groups have 2^-changed &lt;= alpha / K.</summary>
    public static double Level(IReadOnlyList<int> changed, double significance)
    {
        if (significance <= 0) return 0;
        for (int k = 1; ; k++)
        {
            double level = significance / k;
            int reachable = changed.Count(d => CanaryLossRule.SignTestP(d, 0) <= level);
            if (reachable <= k) return level;
        }
    }
}
