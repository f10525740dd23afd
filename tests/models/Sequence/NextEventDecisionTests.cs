using StreamDetect.Models.Sequence;

namespace StreamDetect.Models.Tests.Sequence;

public sealed class NextEventDecisionTests
{
    [Fact]
    public void Top_k_evidence_reaches_1_exactly_for_an_event_outside_the_k_most_likely()
    {
        var decision = new NextEventDecision(NextEventDecisionMode.TopK, k: 3);
        // Types 0..5 with these log-probabilities: ranks 2, 0, 5, 1, 4, 3.
        float[] log = [-2.0f, -0.5f, -9.0f, -1.0f, -6.0f, -4.0f];
        Assert.Equal(2, NextEventDecision.RankOf(log, 0));
        Assert.Equal(0, NextEventDecision.RankOf(log, 1));
        Assert.Equal(5, NextEventDecision.RankOf(log, 2));

        float inside = decision.Evidence(2.0f, NextEventDecision.RankOf(log, 0)); // the 3rd most likely: inside
        float outside = decision.Evidence(4.0f, NextEventDecision.RankOf(log, 5)); // the 4th: outside
        float farOutside = decision.Evidence(9.0f, NextEventDecision.RankOf(log, 2));
        Assert.InRange(inside, 0, 0.5);
        Assert.True(inside < decision.AlertRawScore);
        Assert.True(outside >= decision.AlertRawScore);
        Assert.True(farOutside > outside, "outside the top k, less likely events rank higher");
        Assert.Equal(1, decision.Aggregate(aggregateTop: 3)); // the largest alone: the score reaches 1 exactly when one fell outside
    }

    [Fact]
    public void Top_k_rank_within_a_prediction_s_top_tokens()
    {
        Assert.Equal(1, NextEventDecision.RankIn([7L, 4L, 9L], 4));
        Assert.Equal(3, NextEventDecision.RankIn([7L, 4L, 9L], 5));
    }

    [Fact]
    public void Surprise_mode_keeps_the_surprise_and_lets_the_rate_decide()
    {
        var decision = new NextEventDecision(NextEventDecisionMode.Surprise, k: 3);
        Assert.Equal(4.5f, decision.Evidence(4.5f, rank: 7));
        Assert.Null(decision.AlertRawScore);
        Assert.Equal(2, decision.Aggregate(aggregateTop: 2));
        Assert.Contains("surprise", decision.Describe(), StringComparison.Ordinal);
        Assert.Contains("top-9", new NextEventDecision(NextEventDecisionMode.TopK, 9).Describe(), StringComparison.Ordinal);
    }
}
