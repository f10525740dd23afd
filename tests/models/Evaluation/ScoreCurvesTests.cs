using StreamDetect.Models.Evaluation;

namespace StreamDetect.Models.Tests.Evaluation;

public sealed class ScoreCurvesTests
{
    [Fact]
    public void Roc_points_step_through_each_distinct_score_from_the_origin_to_the_corner()
    {
        // Ranked: 0.9 pos, 0.8 neg, {0.5 pos, 0.5 neg} tied, 0.1 neg.
        var (fpr, tpr) = ScoreCurves.Roc([0.9, 0.8, 0.5, 0.5, 0.1], [1, 0, 1, 0, 0]);
        Assert.Equal([0, 0, 1.0 / 3, 2.0 / 3, 1], fpr);
        Assert.Equal([0, 0.5, 0.5, 1, 1], tpr);
        Assert.Empty(ScoreCurves.Roc([0.2, 0.3], [0, 0]).FalsePositiveRate);
    }

    [Fact]
    public void Precision_recall_points_take_tied_scores_together()
    {
        var (recall, precision) = ScoreCurves.PrecisionRecall([0.9, 0.8, 0.5, 0.5, 0.1], [1, 0, 1, 0, 0]);
        Assert.Equal([0.5, 0.5, 1, 1], recall);
        Assert.Equal([1, 0.5, 0.5, 0.4], precision);
        Assert.Empty(ScoreCurves.PrecisionRecall([0.2], [0]).Recall);
    }
}
