namespace StreamDetect.Models.Evaluation;

/// <summary>How well scores separate positives from negatives: ranking metrics and the confusion matrix at a threshold.</summary>
public sealed record DetectionMetrics(long Positives, long Negatives, double RocAuc, double PrAuc, double Threshold, ConfusionMatrix Confusion)
{
    public double Precision => Confusion.Precision;

    public double Recall => Confusion.Recall;

    public double F1 => Confusion.F1;

    /// <summary>Share of negatives at or above the threshold.</summary>
    public double AlertRate => Confusion.FalsePositiveRate;

    public static DetectionMetrics Compute(IReadOnlyList<double> scores, IReadOnlyList<int> labels, double threshold) =>
        new(labels.Count(l => l == 1), labels.Count(l => l != 1),
            RankingMetrics.RocAuc(scores, labels), RankingMetrics.AveragePrecision(scores, labels),
            threshold, ConfusionMatrix.At(scores, labels, threshold));
}
