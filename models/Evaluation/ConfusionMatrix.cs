namespace StreamDetect.Models.Evaluation;

/// <summary>Counts at a threshold (score at or above = alert).</summary>
public sealed record ConfusionMatrix(long TruePositives, long FalsePositives, long TrueNegatives, long FalseNegatives)
{
    public double Precision => TruePositives + FalsePositives == 0 ? 0 : (double)TruePositives / (TruePositives + FalsePositives);

    public double Recall => TruePositives + FalseNegatives == 0 ? 0 : (double)TruePositives / (TruePositives + FalseNegatives);

    public double F1 => Precision + Recall == 0 ? 0 : 2 * Precision * Recall / (Precision + Recall);

    /// <summary>Share of negatives that alert (the alert rate on normal traffic).</summary>
    public double FalsePositiveRate => FalsePositives + TrueNegatives == 0 ? 0 : (double)FalsePositives / (FalsePositives + TrueNegatives);

    public static ConfusionMatrix At(IReadOnlyList<double> scores, IReadOnlyList<int> labels, double threshold)
    {
        long tp = 0, fp = 0, tn = 0, fn = 0;
        for (int i = 0; i < scores.Count; i++)
        {
            bool alert = scores[i] >= threshold;
            if (labels[i] == 1) { if (alert) tp++; else fn++; }
            else { if (alert) fp++; else tn++; }
        }
        return new ConfusionMatrix(tp, fp, tn, fn);
    }
}
