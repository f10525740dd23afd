namespace StreamDetect.Models.Online;

/// <summary>
/// The rules of online fine-tuning (HOCON <c>streamdetect.online-learning</c>; every key is commented in
/// hocon/streamdetect.conf): what the guard admits, how the sample buffer is bounded, how far one fine-tuning
/// round may move the weights, and the bounds of the promotion gates.
/// </summary>
public sealed record OnlineLearningOptions
{
    /// <summary>Whether the engine fine-tunes at all (the live path is not wired yet: off).</summary>
    public bool Enabled { get; init; }

    /// <summary>Off: every traffic sample goes to the buffer unjudged and uncapped (only to measure what the guards buy).</summary>
    public bool Guards { get; init; } = true;

    /// <summary>A sample is admitted only when its calibrated score is below this quantile of normal scores, under the
    /// champion and under the base version both.</summary>
    public double ScoreQuantile { get; init; } = 0.9;

    /// <summary>Event time a sample waits before it may be learned, so that late feedback can still purge it.</summary>
    public TimeSpan HoldBack { get; init; } = TimeSpan.FromHours(6);

    /// <summary>Traffic samples the buffer keeps (reservoir sampling beyond).</summary>
    public int BufferSize { get; init; } = 20_000;

    /// <summary>Traffic samples older than this (event time, before the stream's progress) leave the buffer, so a round
    /// learns recent traffic and the anchors keep the old; zero: kept until the reservoir replaces them.</summary>
    public TimeSpan BufferMaxAge { get; init; } = TimeSpan.FromHours(12);

    /// <summary>After an alert on a user (one the new-type rule does not explain), its held and buffered samples are
    /// purged and its samples are refused for this long in event time (<see cref="GuardVerdict.Quarantined"/>): a user whose
    /// behaviour rose to an alert (a slow poisoner's approach) is not clearly normal before it, nor once its cooldown ends.
    /// Zero: only the alert and cooldown rules.</summary>
    public TimeSpan AlertQuarantine { get; init; } = TimeSpan.FromDays(3);

    public int MaxPerUser { get; init; } = 20;

    public int MaxPerDevice { get; init; } = 50;

    public int MaxPerIp { get; init; } = 200;

    /// <summary>Analyst false-alarm labels kept (their own reservoir, beside the traffic samples).</summary>
    public int MaxFalseAlarmLabels { get; init; } = 500;

    /// <summary>Users of the original training data kept as the anchor reservoir.</summary>
    public int AnchorUsers { get; init; } = 2_000;

    /// <summary>Share of each fine-tuning batch drawn from the anchor reservoir.</summary>
    public double AnchorShare { get; init; } = 0.5;

    /// <summary>Share of the buffered samples held back from training: the candidate's calibration and the gates' recent normal set.</summary>
    public double HeldBackShare { get; init; } = 0.25;

    public double LearningRate { get; init; } = 3e-4;

    /// <summary>Optimizer steps of one fine-tuning round (one candidate version).</summary>
    public int StepsPerVersion { get; init; } = 100;

    public int BatchSize { get; init; } = 32;

    /// <summary>Gradient norm clip.</summary>
    public double GradientClip { get; init; } = 1.0;

    /// <summary>L2-SP strength: the gradient of (strength / 2) ||w - w_base||^2 is added to every step.</summary>
    public double DistancePenalty { get; init; } = 1.0;

    /// <summary>Hard bound on ||w - w_base|| / ||w_base|| (the weights are projected back onto it after each step).</summary>
    public double MaxDistance { get; init; } = 0.05;

    /// <summary>Gate: the candidate's loss on held-back recent normal samples may exceed the champion's by this share at most.</summary>
    public double RecentLossTolerance { get; init; } = 0.0;

    /// <summary>Gate: the candidate's loss on the anchor set may exceed the champion's by this share at most (no forgetting).</summary>
    public double AnchorLossTolerance { get; init; } = 0.05;

    /// <summary>Gate: the candidate's canary recall may be this much below the champion's (net, floor(drop x n) whole
    /// canaries) whatever the sign test says (<see cref="CanaryLossRule"/>).</summary>
    public double CanaryRecallDrop { get; init; } = 0.02;

    /// <summary>Gate: a net loss of canaries above <see cref="CanaryRecallDrop"/> fails only when the one-sided sign test
    /// on the canaries that changed gives P at most this (<see cref="CanaryLossRule"/>); 1: every such loss fails.</summary>
    public double CanarySignificance { get; init; } = 0.05;

    /// <summary>Gate, per scenario: a scenario's canaries fail the candidate when their net loss is more than this share
    /// of the canaries the champion caught in it and significant (<see cref="ScenarioCanaryRule"/>); 1: never large.</summary>
    public double CanaryScenarioMaxLossShare { get; init; } = 0.5;

    /// <summary>Gate, per scenario: the chance, over all scenario groups together (Tarone's correction), of failing a
    /// candidate as good as the champion (<see cref="ScenarioCanaryRule"/>); 0: no per-scenario rule, the pooled one alone.</summary>
    public double CanaryScenarioSignificance { get; init; } = 0.05;

    /// <summary>The share of normal users alerted at which canary recall is measured.</summary>
    public double AlertBudget { get; init; } = 0.005;

    /// <summary>A type the champion maps to &lt;unk&gt; is assigned a reserved slot only when the round's samples hold it
    /// at least this many times...</summary>
    public int NewTypeMinCount { get; init; } = 50;

    /// <summary>...from at least this many distinct users (so that one actor cannot plant a type).</summary>
    public int NewTypeMinUsers { get; init; } = 10;

    /// <summary>The new-type rule of the guard: a traffic sample the score, alert or cooldown rules refuse may still be
    /// learned when every type of its window that the base version does not know (a release's new types) has been shown
    /// by a population (<see cref="NewTypeRuleMinUsers"/>, <see cref="NewTypeRuleMinUserShare"/>,
    /// <see cref="NewTypeRuleMinDevices"/>, <see cref="NewTypeRuleMinIps"/> in one cadence period) and the sample judged
    /// without those types' events is below the score quantile under the champion and the base, its alerts included.</summary>
    public bool NewTypeRule { get; init; } = true;

    /// <summary>Fewest distinct users that show a new type in one period before the new-type rule applies to it...</summary>
    public int NewTypeRuleMinUsers { get; init; } = 20;

    /// <summary>...and at least this share of the users decided in that period...</summary>
    public double NewTypeRuleMinUserShare { get; init; } = 0.01;

    /// <summary>...from at least this many distinct devices...</summary>
    public int NewTypeRuleMinDevices { get; init; } = 20;

    /// <summary>...and this many distinct IPs (so that one actor, or one botnet behind few addresses, cannot make a type "populous").</summary>
    public int NewTypeRuleMinIps { get; init; } = 20;

    /// <summary>Calibrate a candidate on the held-back recent samples AND the anchor users (on: its thresholds keep the
    /// normal score range of both; off: the held-back samples alone).</summary>
    public bool CalibrateWithAnchors { get; init; } = true;

    /// <summary>Refit the candidate ensemble's cheap feature members (the z-score member's per-feature median and scale)
    /// on the round's training samples and the anchor users (see <see cref="FeatureMemberRefit"/>); off: feature members
    /// keep their training-time fit and only get new thresholds.</summary>
    public bool RefitFeatureMembers { get; init; }

    /// <summary>With <see cref="RefitFeatureMembers"/>: Adam steps that train a copy of the candidate ensemble's autoencoder
    /// network on from its weights on the same rows, its training-time scaling kept (see <see cref="FeatureMemberRefit"/>);
    /// 0: the autoencoder keeps its training-time fit.</summary>
    public int RefitAutoencoderSteps { get; init; }

    /// <summary>The largest <see cref="RefitAutoencoderSteps"/>.</summary>
    public const int MaxRefitAutoencoderSteps = 100_000;

    public int Seed { get; init; } = 1;

    /// <summary>Refuses a value outside its range, naming the key under <paramref name="prefix"/>.</summary>
    public void Validate(string prefix = "streamdetect.online-learning")
    {
        void Require(bool ok, string key, object value, string range)
        {
            if (!ok) throw new ArgumentException($"{prefix}.{key} = {value} is out of range: {range}");
        }
        Require(ScoreQuantile > 0 && ScoreQuantile < 1, "score-quantile", ScoreQuantile, "must be in (0, 1)");
        Require(HoldBack >= TimeSpan.Zero, "hold-back", HoldBack, "must not be negative");
        Require(BufferMaxAge >= TimeSpan.Zero, "buffer-max-age", BufferMaxAge, "must not be negative");
        Require(AlertQuarantine >= TimeSpan.Zero, "alert-quarantine", AlertQuarantine, "must not be negative");
        Require(BufferSize >= 1, "buffer-size", BufferSize, "must be at least 1");
        Require(MaxPerUser >= 1, "max-per-user", MaxPerUser, "must be at least 1");
        Require(MaxPerDevice >= 1, "max-per-device", MaxPerDevice, "must be at least 1");
        Require(MaxPerIp >= 1, "max-per-ip", MaxPerIp, "must be at least 1");
        Require(MaxFalseAlarmLabels >= 0, "max-false-alarm-labels", MaxFalseAlarmLabels, "must not be negative");
        Require(AnchorUsers >= 1, "anchor-users", AnchorUsers, "must be at least 1");
        Require(AnchorShare >= 0 && AnchorShare < 1, "anchor-share", AnchorShare, "must be in [0, 1)");
        Require(HeldBackShare > 0 && HeldBackShare < 1, "held-back-share", HeldBackShare, "must be in (0, 1)");
        Require(LearningRate > 0 && LearningRate <= MaxLearningRate, "learning-rate", LearningRate, $"must be in (0, {MaxLearningRate}]");
        Require(StepsPerVersion >= 1 && StepsPerVersion <= MaxStepsPerVersion, "steps-per-version", StepsPerVersion, $"must be in 1..{MaxStepsPerVersion}");
        Require(RefitAutoencoderSteps >= 0 && RefitAutoencoderSteps <= MaxRefitAutoencoderSteps, "refit-autoencoder-steps", RefitAutoencoderSteps, $"must be in 0..{MaxRefitAutoencoderSteps}");
        Require(BatchSize >= 2, "batch-size", BatchSize, "must be at least 2");
        Require(GradientClip > 0, "gradient-clip", GradientClip, "must be positive");
        Require(DistancePenalty >= 0, "distance-penalty", DistancePenalty, "must not be negative");
        Require(MaxDistance > 0 && MaxDistance <= 1, "max-distance", MaxDistance, "must be in (0, 1]");
        Require(RecentLossTolerance >= 0, "recent-loss-tolerance", RecentLossTolerance, "must not be negative");
        Require(AnchorLossTolerance >= 0, "anchor-loss-tolerance", AnchorLossTolerance, "must not be negative");
        Require(CanaryRecallDrop >= 0 && CanaryRecallDrop <= 1, "canary-recall-drop", CanaryRecallDrop, "must be in [0, 1]");
        Require(CanarySignificance > 0 && CanarySignificance <= 1, "canary-significance", CanarySignificance, "must be in (0, 1]");
        Require(CanaryScenarioMaxLossShare >= 0 && CanaryScenarioMaxLossShare <= 1, "canary-scenario-max-loss-share", CanaryScenarioMaxLossShare, "must be in [0, 1]");
        Require(CanaryScenarioSignificance >= 0 && CanaryScenarioSignificance <= 1, "canary-scenario-significance", CanaryScenarioSignificance, "must be in [0, 1]");
        Require(NewTypeMinCount >= 1, "new-type-min-count", NewTypeMinCount, "must be at least 1");
        Require(NewTypeMinUsers >= 1, "new-type-min-users", NewTypeMinUsers, "must be at least 1");
        Require(NewTypeRuleMinUsers >= 1, "new-type-rule-min-users", NewTypeRuleMinUsers, "must be at least 1");
        Require(NewTypeRuleMinUserShare >= 0 && NewTypeRuleMinUserShare <= 1, "new-type-rule-min-user-share", NewTypeRuleMinUserShare, "must be in [0, 1]");
        Require(NewTypeRuleMinDevices >= 0, "new-type-rule-min-devices", NewTypeRuleMinDevices, "must not be negative");
        Require(NewTypeRuleMinIps >= 0, "new-type-rule-min-ips", NewTypeRuleMinIps, "must not be negative");
        Require(AlertBudget > 0 && AlertBudget < 1, "alert-budget", AlertBudget, "must be in (0, 1)");
    }

    /// <summary>The highest learning rate a setting may ask for: fine-tuning nudges a trained model, it does not retrain it.</summary>
    public const double MaxLearningRate = 0.01;

    /// <summary>The most optimizer steps one version may take.</summary>
    public const int MaxStepsPerVersion = 10_000;

    /// <summary>The calibrated score below which a sample is under <see cref="ScoreQuantile"/>: the calibrated scale is
    /// -log10 of the share of normal samples scoring at least as high.</summary>
    public double ScoreCeiling => -Math.Log10(1 - ScoreQuantile);
}
