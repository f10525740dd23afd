using StreamDetect.Models.Evaluation;

namespace StreamDetect.Models.Tests.Evaluation;

public sealed class RankingMetricsTests
{
    [Fact]
    public void Roc_auc_counts_ties_as_half()
    {
        Assert.Equal(1.0, RankingMetrics.RocAuc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]));
        Assert.Equal(0.0, RankingMetrics.RocAuc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]));
        Assert.Equal(0.5, RankingMetrics.RocAuc([1, 1, 1, 1], [0, 1, 0, 1]));
        Assert.Equal(0.75, RankingMetrics.RocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]));
    }

    [Fact]
    public void Average_precision_is_the_step_area_under_the_precision_recall_curve()
    {
        // Ranked: 0.9 (pos), 0.8 (neg), 0.7 (pos): AP = 1/2 * 1 + 1/2 * 2/3.
        Assert.Equal(0.5 + 1.0 / 3, RankingMetrics.AveragePrecision([0.9, 0.8, 0.7], [1, 0, 1]), 12);
        // A tie between a positive and a negative counts as one step at precision 1/2.
        Assert.Equal(0.5, RankingMetrics.AveragePrecision([0.5, 0.5], [1, 0]), 12);
        Assert.True(double.IsNaN(RankingMetrics.AveragePrecision([0.5], [0])));
    }

    [Fact]
    public void The_confusion_matrix_alerts_at_or_above_the_threshold()
    {
        var m = ConfusionMatrix.At([0.1, 0.5, 0.7, 0.9], [0, 1, 0, 1], 0.5);
        Assert.Equal(new ConfusionMatrix(2, 1, 1, 0), m);
        Assert.Equal(2.0 / 3, m.Precision, 12);
        Assert.Equal(1.0, m.Recall);
        Assert.Equal(0.5, m.FalsePositiveRate);
    }
}
