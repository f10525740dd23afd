namespace StreamDetect.Models.Evaluation;

/// <summary>
/// The ROC and precision-recall curves of scores against binary labels, one point per distinct score
/// (tied scores taken together, as <see cref="RankingMetrics"/> does), from the highest threshold down.
/// </summary>
public static class ScoreCurves
{
    /// <summary>ROC points (false positive rate, true positive rate) from (0, 0) to (1, 1); empty when either class is missing.</summary>
    public static (double[] FalsePositiveRate, double[] TruePositiveRate) Roc(IReadOnlyList<double> scores, IReadOnlyList<int> labels)
    {
        var steps = Steps(scores, labels, out long positives, out long negatives);
        if (positives == 0 || negatives == 0) return ([], []);
        var fpr = new double[steps.Count + 1];
        var tpr = new double[steps.Count + 1];
        for (int i = 0; i < steps.Count; i++)
        {
            fpr[i + 1] = (double)steps[i].FalsePositives / negatives;
            tpr[i + 1] = (double)steps[i].TruePositives / positives;
        }
        return (fpr, tpr);
    }

    /// <summary>Precision-recall points, one per distinct score; empty without positives.</summary>
    public static (double[] Recall, double[] Precision) PrecisionRecall(IReadOnlyList<double> scores, IReadOnlyList<int> labels)
    {
        var steps = Steps(scores, labels, out long positives, out _);
        if (positives == 0) return ([], []);
        var recall = new double[steps.Count];
        var precision = new double[steps.Count];
        for (int i = 0; i < steps.Count; i++)
        {
            recall[i] = (double)steps[i].TruePositives / positives;
            precision[i] = (double)steps[i].TruePositives / (steps[i].TruePositives + steps[i].FalsePositives);
        }
        return (recall, precision);
    }

    /// <summary>Cumulative true and false positives when the threshold is lowered past each distinct score.</summary>
    private static List<(long TruePositives, long FalsePositives)> Steps(IReadOnlyList<double> scores, IReadOnlyList<int> labels,
        out long positives, out long negatives)
    {
        var keys = scores.Select(s => double.IsNaN(s) ? double.NegativeInfinity : s).ToArray();
        var order = Enumerable.Range(0, keys.Length).ToArray();
        Array.Sort((double[])keys.Clone(), order);
        Array.Reverse(order);
        positives = labels.Count(l => l == 1);
        negatives = labels.Count - positives;
        var steps = new List<(long, long)>();
        long tp = 0, fp = 0;
        int i = 0;
        while (i < order.Length)
        {
            int j = i;
            while (j + 1 < order.Length && keys[order[j + 1]] == keys[order[i]]) j++;
            for (int q = i; q <= j; q++)
            {
                if (labels[order[q]] == 1) tp++;
                else fp++;
            }
            steps.Add((tp, fp));
            i = j + 1;
        }
        return steps;
    }
}
