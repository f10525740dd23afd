namespace StreamDetect.Models.Evaluation;

/// <summary>Threshold-free ranking metrics of scores against binary labels (ties handled exactly).</summary>
public static class RankingMetrics
{
    /// <summary>ROC-AUC: the probability that a random positive outscores a random negative (ties count half);
    /// NaN when either class is missing.</summary>
    public static double RocAuc(IReadOnlyList<double> scores, IReadOnlyList<int> labels)
    {
        var order = Order(scores, descending: false);
        long positives = labels.Count(l => l == 1), negatives = labels.Count - positives;
        if (positives == 0 || negatives == 0) return double.NaN;
        double rankSum = 0;
        int i = 0;
        while (i < order.Length)
        {
            int j = i;
            while (j + 1 < order.Length && scores[order[j + 1]] == scores[order[i]]) j++;
            double averageRank = (i + j) / 2.0 + 1;
            for (int q = i; q <= j; q++) if (labels[order[q]] == 1) rankSum += averageRank;
            i = j + 1;
        }
        return (rankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }

    /// <summary>Average precision (area under the precision-recall curve, step-wise, tied scores taken
    /// together); NaN without positives.</summary>
    public static double AveragePrecision(IReadOnlyList<double> scores, IReadOnlyList<int> labels)
    {
        var order = Order(scores, descending: true);
        long positives = labels.Count(l => l == 1);
        if (positives == 0) return double.NaN;
        double ap = 0;
        long tp = 0, seen = 0;
        int i = 0;
        while (i < order.Length)
        {
            int j = i;
            while (j + 1 < order.Length && scores[order[j + 1]] == scores[order[i]]) j++;
            long groupPositives = 0;
            for (int q = i; q <= j; q++) if (labels[order[q]] == 1) groupPositives++;
            tp += groupPositives;
            seen += j - i + 1;
            if (groupPositives > 0) ap += (double)groupPositives / positives * ((double)tp / seen);
            i = j + 1;
        }
        return ap;
    }

    private static int[] Order(IReadOnlyList<double> scores, bool descending)
    {
        var keys = scores.Select(s => double.IsNaN(s) ? double.NegativeInfinity : s).ToArray();
        var order = Enumerable.Range(0, keys.Length).ToArray();
        Array.Sort(keys, order);
        if (descending) Array.Reverse(order);
        return order;
    }
}
