using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Evaluation;
using StreamDetect.Models.Replay;
using StreamDetect.Models.Training;

namespace StreamDetect.Models.Ensemble;

/// <summary>
/// Chooses an ensemble's members from training/validation data only, never test labels. Every trained member
/// scores a sample of normal validation users and a perturbed copy of each (<see cref="SyntheticPerturbations"/>);
/// a member's score of a user is its highest raw score over the <see cref="LocalEvents"/> events from the perturbed
/// one on (the same events of the unperturbed user: a change in days of history is judged where it happens), put on a shared scale by
/// the member's own normal users (-log10 of the share of them scoring at least as high). Time-shifted copies of the
/// normal users (<see cref="SyntheticPerturbations.Shift"/>) count as normal too: a member that flags the same
/// behaviour at another hour of the day ranks them among the perturbed and loses AUC. A member whose scores carry
/// no spread (the same for every user, normal, shifted or perturbed) is dropped. Then, greedily: start from the member that best separates
/// perturbed from normal users (ROC-AUC), and add the member that most raises the AUC of the maximum of the chosen
/// members' scores while it rises by at least <see cref="EnsembleHyperParameters.SelectionMinGain"/>. So the
/// ensemble's ranking on this set is never worse than its best member's.
/// </summary>
internal static class MemberSelection
{
    /// <summary>How far the time-shifted copies of normal users move: half a day, the largest change of the hour.</summary>
    public const long ShiftMs = 12 * 3_600_000L;

    /// <summary>How many events from the perturbed one on a user is judged by (the same span in the unperturbed user).</summary>
    public const int LocalEvents = 20;

    /// <summary>The indices of the members to keep (in their configured order) and one line per member saying why.</summary>
    public static (int[] Keep, IReadOnlyList<string> Report) Select(IReadOnlyList<AnomalyDetector> members, TrainingContext context, EnsembleHyperParameters p)
    {
        var validation = context.Validation;
        double periodMs = validation.LastEventMs - validation.FirstEventMs;
        long fromMs = validation.FirstEventMs + (long)Math.Min(context.Options.Calibration.WarmUpDays * 86_400_000, periodMs / 3);
        var (normal, perturbed, at) = SyntheticPerturbations.Build(validation, fromMs, p.SelectionUsers, context.Options.Seed);
        // Each user is judged where its copy was perturbed: from that event on, for LocalEvents events.
        int[] from = [.. at, .. at], shiftedFrom = at;
        var report = new List<string>();
        if (normal.Length < 10)
        {
            report.Add($"member selection skipped: {normal.Length} validation users with {SyntheticPerturbations.MinScoredEvents}+ scored events (10 needed)");
            return ([.. Enumerable.Range(0, members.Count)], report);
        }
        var data = new BehaviorDataset([.. normal, .. perturbed], validation.WindowCapacity);
        var shifted = new BehaviorDataset([.. normal.Select(u => SyntheticPerturbations.Shift(u, ShiftMs))], validation.WindowCapacity);
        // Perturbed copies are the positives; the normal users and their time-shifted copies the negatives.
        var labels = Enumerable.Range(0, data.Users.Count + shifted.Users.Count).Select(u => u >= normal.Length && u < data.Users.Count ? 1 : 0).ToArray();
        var scores = new double[members.Count][];
        var spread = new bool[members.Count];
        for (int m = 0; m < members.Count; m++)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            double[] maxima = [.. UserMaxima(data, from, members[m], fromMs, context), .. UserMaxima(shifted, shiftedFrom, members[m], fromMs + ShiftMs, context)];
            spread[m] = maxima.Where(double.IsFinite).Distinct().Skip(1).Any();
            scores[m] = OnNormalScale(maxima, normal.Length);
        }
        var aucs = scores.Select(s => RankingMetrics.RocAuc(s, labels)).ToArray();
        var chosen = new List<int>();
        double best = double.NegativeInfinity;
        var candidates = Enumerable.Range(0, members.Count).Where(m => spread[m]).ToList();
        while (candidates.Count > 0)
        {
            int pick = -1;
            double pickAuc = double.NegativeInfinity;
            foreach (int m in candidates)
            {
                double auc = RankingMetrics.RocAuc(Combined([.. chosen, m], scores), labels);
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
            string why = !spread[m] ? "no spread: the same score for every user"
                : chosen.Contains(m) ? $"step {chosen.IndexOf(m) + 1} of the greedy choice"
                : "adds too little to the chosen members";
            int n = normal.Length;
            double perturbedOnly = RankingMetrics.RocAuc(scores[m][..(2 * n)], labels[..(2 * n)]);
            double shiftedOnly = RankingMetrics.RocAuc([.. scores[m][..n], .. scores[m][(2 * n)..]], [.. new int[n], .. Enumerable.Repeat(1, n)]);
            report.Add($"member '{members[m].Name}': ROC-AUC {aucs[m]:F4} alone (perturbed vs normal {perturbedOnly:F4}, time-shifted vs normal {shiftedOnly:F4}); " +
                       $"{(chosen.Contains(m) ? "kept" : "dropped")} ({why})");
        }
        report.Add($"ensemble of {string.Join(", ", chosen.Order().Select(m => members[m].Name))}: perturbation ROC-AUC {best:F4} " +
                   $"({normal.Length} normal validation users, as many time-shifted and perturbed copies)");
        return ([.. chosen.Order()], report);
    }

    /// <summary>Each user's highest raw score over its events <c>[from[u], from[u] + LocalEvents)</c>.</summary>
    private static double[] UserMaxima(BehaviorDataset data, int[] from, AnomalyDetector member, long fromMs, TrainingContext context)
    {
        var maxima = new double[data.Users.Count];
        Array.Fill(maxima, double.NegativeInfinity);
        StreamingReplay.Run(data, member, new ReplayOptions(context.Options.ScoringBatchSize, fromMs), score =>
        {
            int u = score.UserIndex;
            if (score.EventIndex < from[u] || score.EventIndex >= from[u] + LocalEvents) return;
            double raw = score.Output.RawScoreAt(score.Output.Count - 1);
            if (raw > maxima[u]) maxima[u] = raw;
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
}
