using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Replay;
using StreamDetect.Models.Training;

namespace StreamDetect.Models.Ensemble;

/// <summary>
/// Chooses an ensemble's members from training/validation data only, never test labels. Every trained member
/// scores a sample of normal validation users and a perturbed copy of each (<see cref="SyntheticPerturbations"/>);
/// a member's score of a user is its highest raw score over the user's scored period, put on a shared scale by
/// the member's own normal users (-log10 of the share of them scoring at least as high). Time-shifted copies of the
/// normal users (<see cref="SyntheticPerturbations.Shift"/>) count as normal too: a member that flags the same
/// behaviour at another hour of the day ranks them among the perturbed and loses AUC. A member whose scores of
/// the normal users carry no spread is dropped. Then, greedily: start from the member that best separates
/// perturbed from normal users (ROC-AUC), and add the member that most raises the AUC of the maximum of the chosen
/// members' scores while it rises by at least <see cref="EnsembleHyperParameters.SelectionMinGain"/>. So the
/// ensemble's ranking on this set is never worse than its best member's.
/// </summary>
internal static class MemberSelection
{
    /// <summary>How far the time-shifted copies of normal users move: half a day, the largest change of the hour.</summary>
    public const long ShiftMs = 12 * 3_600_000L;

    /// <summary>The indices of the members to keep (in their configured order) and one line per member saying why.</summary>
    public static (int[] Keep, IReadOnlyList<string> Report) Select(IReadOnlyList<AnomalyDetector> members, TrainingContext context, EnsembleHyperParameters p)
    {
        var validation = context.Validation;
        double periodMs = validation.LastEventMs - validation.FirstEventMs;
        long fromMs = validation.FirstEventMs + (long)Math.Min(context.Options.Calibration.WarmUpDays * 86_400_000, periodMs / 3);
        var (normal, perturbed) = SyntheticPerturbations.Build(validation, fromMs, p.SelectionUsers, context.Options.Seed);
        var report = new List<string>();
        if (normal.Length < 10)
        {
            report.Add($"member selection skipped: {normal.Length} validation users with {SyntheticPerturbations.MinScoredEvents}+ scored events (10 needed)");
            return ([.. Enumerable.Range(0, members.Count)], report);
        }
        var data = new BehaviorDataset([.. normal, .. perturbed], validation.WindowCapacity);
        var shifted = new BehaviorDataset([.. normal.Select(u => SyntheticPerturbations.Shift(u, ShiftMs))], validation.WindowCapacity);
        // Perturbed copies are the positives; the normal users and their time-shifted copies the negatives.
        var labels = Enumerable.Range(0, data.Users.Count + shifted.Users.Count).Select(u => u >= normal.Length && u < data.Users.Count).ToArray();
        var scores = new double[members.Count][];
        var spread = new bool[members.Count];
        for (int m = 0; m < members.Count; m++)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            double[] maxima = [.. UserMaxima(data, members[m], fromMs, context), .. UserMaxima(shifted, members[m], fromMs + ShiftMs, context)];
            spread[m] = maxima.Take(normal.Length).Where(double.IsFinite).Distinct().Skip(1).Any();
            scores[m] = OnNormalScale(maxima, normal.Length);
        }
        var aucs = scores.Select(s => RocAuc(s, labels)).ToArray();
        var chosen = new List<int>();
        double best = double.NegativeInfinity;
        var candidates = Enumerable.Range(0, members.Count).Where(m => spread[m]).ToList();
        while (candidates.Count > 0)
        {
            int pick = -1;
            double pickAuc = double.NegativeInfinity;
            foreach (int m in candidates)
            {
                double auc = RocAuc(Combined([.. chosen, m], scores), labels);
                if (auc > pickAuc) (pick, pickAuc) = (m, auc);
            }
            if (chosen.Count > 0 && pickAuc < best + p.SelectionMinGain) break;
            chosen.Add(pick);
            best = pickAuc;
            candidates.Remove(pick);
        }
        if (chosen.Count == 0) chosen.Add(Enumerable.Range(0, members.Count).MaxBy(m => aucs[m])); // no member has spread: keep the best
        for (int m = 0; m < members.Count; m++)
        {
            string why = !spread[m] ? "no spread in its scores of normal validation users"
                : chosen.Contains(m) ? $"step {chosen.IndexOf(m) + 1} of the greedy choice"
                : "adds too little to the chosen members";
            report.Add($"member '{members[m].Name}': perturbation ROC-AUC {aucs[m]:F4} alone; {(chosen.Contains(m) ? "kept" : "dropped")} ({why})");
        }
        report.Add($"ensemble of {string.Join(", ", chosen.Order().Select(m => members[m].Name))}: perturbation ROC-AUC {best:F4} " +
                   $"({normal.Length} normal validation users, as many time-shifted and perturbed copies)");
        return ([.. chosen.Order()], report);
    }

    private static double[] UserMaxima(BehaviorDataset data, AnomalyDetector member, long fromMs, TrainingContext context)
    {
        var maxima = new double[data.Users.Count];
        Array.Fill(maxima, double.NegativeInfinity);
        StreamingReplay.Run(data, member, new ReplayOptions(context.Options.ScoringBatchSize, fromMs), score =>
        {
            double raw = score.Output.RawScoreAt(score.Output.Count - 1);
            if (raw > maxima[score.UserIndex]) maxima[score.UserIndex] = raw;
        }, context.Cancellation);
        return maxima;
    }

    /// <summary>-log10 of the share of the first <paramref name="normalCount"/> users scoring at least as high (add-one smoothed).</summary>
    internal static double[] OnNormalScale(double[] maxima, int normalCount)
    {
        var normal = maxima.Take(normalCount).Select(v => double.IsNaN(v) ? double.NegativeInfinity : v).Order().ToArray();
        var scaled = new double[maxima.Length];
        for (int u = 0; u < maxima.Length; u++)
        {
            double v = double.IsNaN(maxima[u]) ? double.NegativeInfinity : maxima[u];
            int below = LowerBound(normal, v);
            scaled[u] = -Math.Log10((normal.Length - below + 1.0) / (normal.Length + 1.0));
        }
        return scaled;
    }

    private static int LowerBound(double[] sorted, double value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) / 2;
            if (sorted[mid] < value) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    private static double[] Combined(IReadOnlyList<int> members, double[][] scores)
    {
        var combined = new double[scores[members[0]].Length];
        for (int u = 0; u < combined.Length; u++)
        {
            double max = double.NegativeInfinity;
            foreach (int m in members) max = Math.Max(max, scores[m][u]);
            combined[u] = max;
        }
        return combined;
    }

    /// <summary>ROC-AUC (ties count half) of scores against labels.</summary>
    internal static double RocAuc(double[] scores, bool[] labels)
    {
        var order = Enumerable.Range(0, scores.Length).OrderBy(i => scores[i]).ToArray();
        double positives = labels.Count(l => l), negatives = labels.Length - positives;
        if (positives == 0 || negatives == 0) return 0.5;
        double rankSum = 0;
        for (int i = 0; i < order.Length;)
        {
            int j = i;
            while (j + 1 < order.Length && scores[order[j + 1]] == scores[order[i]]) j++;
            double rank = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) if (labels[order[k]]) rankSum += rank;
            i = j + 1;
        }
        return (rankSum - positives * (positives + 1) / 2) / (positives * negatives);
    }
}
