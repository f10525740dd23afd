using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Evaluation;
using StreamDetect.Models.Replay;
using StreamDetect.Models.Training;

namespace StreamDetect.Models.Ensemble;

/// <summary>
/// Chooses an ensemble's members from training/validation data only, never test labels. Every trained member
/// scores a sample of normal validation users, a perturbed copy of each (<see cref="SyntheticPerturbations"/>) and
/// a copy of each moved 12 h later (<see cref="SyntheticPerturbations.Shift"/>: the same behaviour at another hour).
/// A member's score of a user is its highest raw score over the <see cref="LocalEvents"/> events from the perturbed
/// one on (the same events of the unperturbed and shifted users: a change in days of history is judged where it
/// happens), put on a shared scale by the member's own normal users (-log10 of the share of them scoring at least
/// as high). A member is dropped when its scores carry no spread (the same for every user), when it tells the
/// shifted copies from the normal users (ROC-AUC above 0.5 + <see cref="EnsembleHyperParameters.SelectionTimeShiftTolerance"/>:
/// it leans on the time of day, which then drags the ensemble on data from other hours), or when it barely tells
/// the perturbed copies from the normal users (ROC-AUC below 0.5 + <see cref="EnsembleHyperParameters.SelectionMinSignal"/>).
/// A challenger (<see cref="EnsembleHyperParameters.Challengers"/>) that passes these rules joins only when its ROC-AUC of
/// perturbed against normal users beats every kept member's by more than <see cref="EnsembleHyperParameters.SelectionChallengerMargin"/>. When every member fails, the one that ranks best keeps
/// the ensemble going. The report gives each member's AUCs
/// and the kept members' combined AUC next to their best member's.
/// </summary>
internal static class MemberSelection
{
    /// <summary>How far the time-shifted copies of normal users move: half a day, the largest change of the hour.</summary>
    public const long ShiftMs = 12 * 3_600_000L;

    /// <summary>How many events from the perturbed one on a user is judged by (the same span in the unperturbed user).</summary>
    public const int LocalEvents = 20;

    /// <summary>The indices of the members to keep (in their configured order) and one line per member saying why.</summary>
    public static (int[] Keep, IReadOnlyList<string> Report) Select(IReadOnlyList<AnomalyDetector> members, IReadOnlyList<bool> challenger,
        TrainingContext context, EnsembleHyperParameters p)
    {
        var validation = context.Validation;
        double periodMs = validation.LastEventMs - validation.FirstEventMs;
        long fromMs = validation.FirstEventMs + (long)Math.Min(context.Options.Calibration.WarmUpDays * 86_400_000, periodMs / 3);
        var (normal, perturbed, normalAt, perturbedAt) = SyntheticPerturbations.Build(validation, fromMs, p.SelectionUsers, context.Options.Seed, LocalEvents);
        // Each user is judged where its copy was perturbed: from that event on, for LocalEvents entries.
        int[] from = [.. normalAt, .. perturbedAt], shiftedFrom = normalAt;
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
        int n = normal.Length;
        var isNormal = new int[n];
        var chosen = new List<int>();
        var perturbedAuc = new double[members.Count];
        var shiftedAuc = new double[members.Count];
        var why = new string[members.Count];
        for (int m = 0; m < members.Count; m++)
        {
            perturbedAuc[m] = RankingMetrics.RocAuc(scores[m][..(2 * n)], labels[..(2 * n)]);
            shiftedAuc[m] = RankingMetrics.RocAuc([.. scores[m][..n], .. scores[m][(2 * n)..]], [.. isNormal, .. Enumerable.Repeat(1, n)]);
            if (!spread[m]) why[m] = "dropped: no spread, the same score for every user";
            else if (shiftedAuc[m] > 0.5 + p.SelectionTimeShiftTolerance)
                why[m] = $"dropped: it flags the same users 12 h later (AUC above {0.5 + p.SelectionTimeShiftTolerance:F2}): time of day is no signal";
            else if (perturbedAuc[m] < 0.5 + p.SelectionMinSignal)
                why[m] = $"dropped: it barely tells perturbed users from normal ones (AUC below {0.5 + p.SelectionMinSignal:F2})";
            else
            {
                why[m] = "kept";
                chosen.Add(m);
            }
        }
        // A challenger joins only when it tells perturbed users from normal ones clearly better than every member kept so far.
        double bestMember = chosen.Where(m => !challenger[m]).Select(m => perturbedAuc[m]).DefaultIfEmpty(double.NegativeInfinity).Max();
        foreach (int m in chosen.Where(m => challenger[m]).ToArray())
        {
            if (perturbedAuc[m] > bestMember + p.SelectionChallengerMargin)
            {
                why[m] = $"kept: a challenger better than every member ({perturbedAuc[m]:F4} > {bestMember:F4} + {p.SelectionChallengerMargin})";
                continue;
            }
            chosen.Remove(m);
            why[m] = $"dropped: a challenger not clearly better than the best member ({perturbedAuc[m]:F4} <= {bestMember:F4} + {p.SelectionChallengerMargin})";
        }
        if (chosen.Count == 0)
        {
            int best = Enumerable.Range(0, members.Count).MaxBy(m => RankingMetrics.RocAuc(scores[m], labels));
            chosen.Add(best);
            why[best] = "kept: the best of members that all fail the rules";
        }
        for (int m = 0; m < members.Count; m++)
        {
            report.Add($"member '{members[m].Name}': ROC-AUC perturbed vs normal {perturbedAuc[m]:F4}, time-shifted vs normal {shiftedAuc[m]:F4}; {why[m]}");
        }
        double combined = RankingMetrics.RocAuc(Combined(chosen, scores), labels);
        double bestAlone = chosen.Max(m => RankingMetrics.RocAuc(scores[m], labels));
        report.Add($"ensemble of {string.Join(", ", chosen.Select(m => members[m].Name))}: ROC-AUC {combined:F4} against perturbed, normal and time-shifted users " +
                   $"(its best member alone {bestAlone:F4}; {n} normal validation users, as many time-shifted and perturbed copies)");
        return ([.. chosen], report);
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
