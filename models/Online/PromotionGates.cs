using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Replay;

namespace StreamDetect.Models.Online;

/// <summary>
/// The gates a fine-tuned candidate must pass before shadow scoring (issue 11, item 4; shadow and swap are the live
/// path's). Each returns a <see cref="GateResult"/>:
/// <list type="bullet">
/// <item><c>recent-normal-loss</c>: the candidate's next-event loss on held-back recent normal samples, at most the
/// champion's x (1 + <see cref="OnlineLearningOptions.RecentLossTolerance"/>): it must not be worse on what it adapts to.</item>
/// <item><c>anchor-loss</c>: its loss on the anchor users (the original training data), at most the champion's x
/// (1 + <see cref="OnlineLearningOptions.AnchorLossTolerance"/>): no forgetting.</item>
/// <item><c>canary-recall</c>: the share of canary users (attack sequences: scenario episodes, feedback positives) whose
/// highest score exceeds the score that alerts <see cref="OnlineLearningOptions.AlertBudget"/> of the anchor users (the
/// trusted normal: each detector its own threshold), compared with the champion's on the same canaries by
/// <see cref="CanaryLossRule"/>: it fails when the candidate's net loss of caught canaries is both above
/// <see cref="OnlineLearningOptions.CanaryRecallDrop"/> x n and significant (sign test at
/// <see cref="OnlineLearningOptions.CanarySignificance"/>). Not the held-back samples: they come from the buffer the
/// candidate learned from, and a poisoned buffer (guards off, or a guard that let an attack through) would raise the
/// threshold with the attack itself, so that neither champion nor candidate catches a canary and the gate cannot fail.
/// When the canaries' scenarios are given, each scenario's canaries are judged too (<see cref="ScenarioCanaryRule"/>):
/// the gate also fails when a candidate loses a large and significant share of the canaries the champion caught in one
/// scenario, which the pooled recall hides when it gains elsewhere; its note names the scenario with its counts.
/// Without canaries it fails (nothing shows recall is kept).</item>
/// </list>
/// The champion's figures are computed on a private copy: the instance the stream scores with is never called.
/// </summary>
public sealed class PromotionGates
{
    public const string RecentNormalLoss = "recent-normal-loss";
    public const string AnchorLoss = "anchor-loss";
    public const string CanaryRecall = "canary-recall";

    private readonly OnlineLearningOptions _options;
    private readonly int _scoringBatchSize;

    public PromotionGates(OnlineLearningOptions options, int scoringBatchSize = 1024)
    {
        options.Validate();
        _options = options;
        _scoringBatchSize = scoringBatchSize;
    }

    /// <summary>Whether every gate passed.</summary>
    public static bool AllPassed(IReadOnlyList<GateResult> results) => results.Count > 0 && results.All(r => r.Passed);

    /// <param name="champion">The detector scoring now (copied, not called).</param>
    /// <param name="candidate">The fine-tuned candidate (not yet scoring anywhere).</param>
    /// <param name="heldBack">Held-back recent normal samples (<see cref="FineTuneResult.HeldBack"/>).</param>
    /// <param name="anchors">The anchor users.</param>
    /// <param name="canaries">Attack sequences.</param>
    public IReadOnlyList<GateResult> Evaluate(IAnomalyDetector champion, IAnomalyDetector candidate, BehaviorDataset heldBack,
        BehaviorDataset anchors, BehaviorDataset canaries, CancellationToken cancellation = default) =>
        Evaluate(champion, candidate, heldBack, anchors, canaries, null, cancellation);

    /// <param name="champion">The detector scoring now (copied, not called).</param>
    /// <param name="candidate">The fine-tuned candidate (not yet scoring anywhere).</param>
    /// <param name="heldBack">Held-back recent normal samples (<see cref="FineTuneResult.HeldBack"/>).</param>
    /// <param name="anchors">The anchor users.</param>
    /// <param name="canaries">Attack sequences.</param>
    /// <param name="canaryScenarios">Each canary's scenario (in the order of <paramref name="canaries"/>), for the
    /// per-scenario rule; null: the pooled rule alone.</param>
    public IReadOnlyList<GateResult> Evaluate(IAnomalyDetector champion, IAnomalyDetector candidate, BehaviorDataset heldBack,
        BehaviorDataset anchors, BehaviorDataset canaries, IReadOnlyList<string>? canaryScenarios, CancellationToken cancellation = default)
    {
        if (canaryScenarios is not null && canaryScenarios.Count != canaries.Users.Count)
            throw new ArgumentException($"{canaryScenarios.Count} canary scenarios for {canaries.Users.Count} canary users", nameof(canaryScenarios));
        using var championCopy = DetectorCopy.Of(champion);
        var results = new List<GateResult>(3);

        double championRecent = NextEventLoss.Mean(championCopy, heldBack);
        double candidateRecent = NextEventLoss.Mean(candidate, heldBack);
        double recentBound = championRecent * (1 + _options.RecentLossTolerance);
        results.Add(new GateResult(RecentNormalLoss, candidateRecent, recentBound, candidateRecent <= recentBound));

        double championAnchor = NextEventLoss.Mean(championCopy, anchors);
        double candidateAnchor = NextEventLoss.Mean(candidate, anchors);
        double anchorBound = championAnchor * (1 + _options.AnchorLossTolerance);
        results.Add(new GateResult(AnchorLoss, candidateAnchor, anchorBound, candidateAnchor <= anchorBound));

        if (canaries.Users.Count == 0)
        {
            results.Add(new GateResult(CanaryRecall, double.NaN, double.NaN, false));
            return results;
        }
        var championCaught = CaughtAtBudget(championCopy, anchors, canaries, cancellation);
        var candidateCaught = CaughtAtBudget(candidate, anchors, canaries, cancellation);
        results.Add(canaryScenarios is null
            ? CanaryGate(championCaught, candidateCaught, _options.CanaryRecallDrop, _options.CanarySignificance)
            : CanaryGate(championCaught, candidateCaught, canaryScenarios, _options));
        return results;
    }

    /// <summary>
    /// The canary-recall gate from which canaries each detector caught (the same users, in the same order): its value is
    /// the candidate's recall, its bound the lowest recall <see cref="CanaryLossRule"/> lets it pass with (the champion's
    /// recall less the most canaries it may lose, given those it gained), and whether it passed (counted in whole canaries).
    /// </summary>
    public static GateResult CanaryGate(IReadOnlyList<bool> championCaught, IReadOnlyList<bool> candidateCaught, double drop, double significance)
    {
        if (championCaught.Count != candidateCaught.Count) throw new ArgumentException("the champion and the candidate must be measured on the same canaries");
        int n = championCaught.Count;
        if (n == 0) return new GateResult(CanaryRecall, double.NaN, double.NaN, false);
        int champion = 0, candidate = 0, lost = 0, gained = 0;
        for (int i = 0; i < n; i++)
        {
            if (championCaught[i]) champion++;
            if (candidateCaught[i]) candidate++;
            if (championCaught[i] && !candidateCaught[i]) lost++;
            if (!championCaught[i] && candidateCaught[i]) gained++;
        }
        int mostLost = CanaryLossRule.MostLost(gained, n, drop, significance);
        bool passed = CanaryLossRule.Passes(lost, gained, n, drop, significance);
        return new GateResult(CanaryRecall, candidate / (double)n, (champion - mostLost + gained) / (double)n, passed)
        {
            Note = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"lost {lost}, gained {gained} of {n}, sign test P {CanaryLossRule.SignTestP(lost, gained):G2}"),
        };
    }

    /// <summary>
    /// The canary-recall gate with each scenario's canaries judged too (<see cref="ScenarioCanaryRule"/>, with
    /// <see cref="OnlineLearningOptions.CanaryScenarioMaxLossShare"/> and <see cref="OnlineLearningOptions.CanaryScenarioSignificance"/>):
    /// value and bound are the pooled rule's (<see cref="CanaryGate(IReadOnlyList{bool}, IReadOnlyList{bool}, double, double)"/>);
    /// it passes when the pooled rule and every scenario pass. The note adds the failing scenarios with their counts
    /// (e.g. "lost 10, gained 6 of 100, sign test P 0.23; scenario FAILED checkout_loop: lost 10, gained 0 of 10, P 0.00098
    /// (level 0.05)"), or, when none failed, the scenario with the smallest P among those that lost a canary.
    /// </summary>
    /// <param name="scenarios">Each canary's scenario, in the same order.</param>
    public static GateResult CanaryGate(IReadOnlyList<bool> championCaught, IReadOnlyList<bool> candidateCaught, IReadOnlyList<string> scenarios,
        OnlineLearningOptions options)
    {
        var pooled = CanaryGate(championCaught, candidateCaught, options.CanaryRecallDrop, options.CanarySignificance);
        if (championCaught.Count == 0 || options.CanaryScenarioSignificance == 0) return pooled;
        var verdict = ScenarioCanaryRule.Judge(championCaught, candidateCaught, scenarios, options.CanaryScenarioMaxLossShare, options.CanaryScenarioSignificance);
        string level = verdict.Level.ToString("G2", System.Globalization.CultureInfo.InvariantCulture);
        string scenarioNote;
        if (!verdict.Passed)
            scenarioNote = $"scenario FAILED {string.Join("; ", verdict.Failing)} (level {level})";
        else if (verdict.Groups.Where(g => g.Lost > 0).OrderBy(g => g.P).ThenBy(g => g.Scenario, StringComparer.Ordinal).FirstOrDefault() is { } worst)
            scenarioNote = $"{verdict.Groups.Count} scenarios ok, worst {worst} (level {level})";
        else
            scenarioNote = $"{verdict.Groups.Count} scenarios ok, none lost a canary";
        return pooled with { Passed = pooled.Passed && verdict.Passed, Note = $"{pooled.Note}; {scenarioNote}" };
    }

    /// <summary>For each canary user (in order): whether its highest score is above the (1 - budget) quantile of the normal users' highest scores.</summary>
    public bool[] CaughtAtBudget(IAnomalyDetector detector, BehaviorDataset normal, BehaviorDataset canaries, CancellationToken cancellation = default)
    {
        var normalMaxima = UserMaxima(detector, normal, cancellation);
        Array.Sort(normalMaxima);
        int rank = Math.Clamp((int)Math.Ceiling((1 - _options.AlertBudget) * normalMaxima.Length) - 1, 0, normalMaxima.Length - 1);
        double threshold = normalMaxima[rank];
        return UserMaxima(detector, canaries, cancellation).Select(m => m > threshold).ToArray();
    }

    private double[] UserMaxima(IAnomalyDetector detector, BehaviorDataset data, CancellationToken cancellation)
    {
        var maxima = new double[data.Users.Count];
        Array.Fill(maxima, double.NegativeInfinity);
        StreamingReplay.Run(data, detector, new ReplayOptions(_scoringBatchSize), score =>
        {
            var output = score.Output;
            // Raw scores: the order is the calibrated one, without the ties a calibration fitted on few samples can make at its top.
            double value = output.RawScoreAt(output.Count - 1);
            if (value > maxima[score.UserIndex]) maxima[score.UserIndex] = value;
        }, cancellation);
        return maxima;
    }
}
