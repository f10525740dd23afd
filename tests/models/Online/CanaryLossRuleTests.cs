using StreamDetect.Models.Online;

namespace StreamDetect.Models.Tests.Online;

/// <summary>
/// The canary-recall gate's rule (<see cref="CanaryLossRule"/>, <see cref="PromotionGates.CanaryGate"/>) at the shipped
/// defaults (drop 0.02, significance 0.05): a loss that chance explains at the sample size passes, a real one fails.
/// The earlier rule (recall below the champion's - 0.02) rejected a candidate for one canary of 20 or 3 of 100.
/// </summary>
public sealed class CanaryLossRuleTests
{
    private static readonly OnlineLearningOptions Defaults = new();

    /// <summary>Caught flags for n canaries: the champion catches the first <paramref name="champion"/>; the candidate
    /// misses <paramref name="lost"/> of those and catches <paramref name="gained"/> the champion missed.</summary>
    private static (bool[] Champion, bool[] Candidate) Caught(int n, int champion, int lost, int gained)
    {
        var a = new bool[n];
        var b = new bool[n];
        for (int i = 0; i < champion; i++) a[i] = b[i] = true;
        for (int i = 0; i < lost; i++) b[i] = false;
        for (int i = champion; i < champion + gained; i++) b[i] = true;
        return (a, b);
    }

    private static GateResult Gate(int n, int champion, int lost, int gained)
    {
        var (a, b) = Caught(n, champion, lost, gained);
        return PromotionGates.CanaryGate(a, b, Defaults.CanaryRecallDrop, Defaults.CanarySignificance);
    }

    [Theory]
    [InlineData(100, 85, 1, 0)]
    [InlineData(100, 85, 3, 0)]
    [InlineData(100, 85, 4, 0)]
    [InlineData(20, 17, 1, 0)]  // the bench's round 2-4 shape at 20 canaries: the old rule failed these
    [InlineData(20, 17, 3, 0)]
    [InlineData(100, 85, 8, 2)]
    [InlineData(1000, 850, 20, 0)]
    public void A_loss_chance_explains_at_this_many_canaries_passes(int n, int champion, int lost, int gained)
    {
        var gate = Gate(n, champion, lost, gained);
        Assert.True(gate.Passed, $"{gate}");
        Assert.Equal((champion - lost + gained) / (double)n, gate.Value, 12);
        Assert.True(gate.Value >= gate.Bound, $"{gate}");
        // The old rule: recall at least the champion's - 0.02.
        bool oldRule = gate.Value >= champion / (double)n - Defaults.CanaryRecallDrop;
        if (n <= 100 && lost - gained >= 3) Assert.False(oldRule);
    }

    [Theory]
    [InlineData(100, 85, 5, 0)]
    [InlineData(100, 85, 9, 2)]
    [InlineData(100, 85, 30, 0)]
    [InlineData(20, 17, 10, 0)]
    [InlineData(1000, 850, 21, 0)]
    [InlineData(1000, 850, 60, 30)]
    public void A_loss_chance_does_not_explain_fails(int n, int champion, int lost, int gained)
    {
        var gate = Gate(n, champion, lost, gained);
        Assert.False(gate.Passed, $"{gate}");
        Assert.True(gate.Value < gate.Bound, $"{gate}");
    }

    [Fact]
    public void The_bound_is_the_champions_recall_less_the_most_canaries_the_candidate_may_lose()
    {
        // 100 canaries, none gained: 4 may be lost (P = 1/16), the 5th fails (P = 1/32).
        Assert.Equal(4, CanaryLossRule.MostLost(0, 100, 0.02, 0.05));
        Assert.Equal((85 - 4) / 100.0, Gate(100, 85, 1, 0).Bound, 12);
        Assert.Equal("lost 1, gained 0 of 100, sign test P 0.5", Gate(100, 85, 1, 0).Note);
        // 2 gained: 8 lost pass (P = 56/1024), 9 fail (P = 67/2048).
        Assert.Equal(8, CanaryLossRule.MostLost(2, 100, 0.02, 0.05));
        Assert.Equal(56 / 1024.0, CanaryLossRule.SignTestP(8, 2), 12);
        Assert.Equal(67 / 2048.0, CanaryLossRule.SignTestP(9, 2), 12);
        // Many canaries: the drop governs (2 % of 1,000).
        Assert.Equal(20, CanaryLossRule.MostLost(0, 1000, 0.02, 0.05));
    }

    [Fact]
    public void Significance_one_is_the_plain_drop_rule_and_no_canaries_fail()
    {
        Assert.False(PromotionGates.CanaryGate(Caught(100, 85, 3, 0).Champion, Caught(100, 85, 3, 0).Candidate, 0.02, 1).Passed);
        Assert.True(PromotionGates.CanaryGate(Caught(100, 85, 2, 0).Champion, Caught(100, 85, 2, 0).Candidate, 0.02, 1).Passed);
        var none = PromotionGates.CanaryGate([], [], 0.02, 0.05);
        Assert.False(none.Passed);
        Assert.True(double.IsNaN(none.Value));
        Assert.Equal(1.0, CanaryLossRule.SignTestP(0, 5));
        Assert.Throws<ArgumentException>(() => PromotionGates.CanaryGate([true], [true, false], 0.02, 0.05));
    }
}
