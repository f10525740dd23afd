using StreamDetect.Models.Baselines;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Ensemble;
using StreamDetect.Models.Features;
using StreamDetect.Models.Online;
using StreamDetect.Models.Persistence;
using StreamDetect.Models.Reconstruction;
using StreamDetect.Models.Sequence;
using StreamDetect.Models.Sessions;
using StreamDetect.Models.Tests.Support;
using StreamDetect.Models.Training;
using TorchSharp;

namespace StreamDetect.Models.Tests.Online;

/// <summary>
/// refit-feature-members: a fine-tuned ensemble's z-score member is refitted on the round's samples and the anchors
/// (a release's new type, counted in count_other_*, is no longer extreme for it), and left as it was with the option off;
/// with refit-autoencoder-steps, the autoencoder member's network is trained on with its training-time scaling kept.
/// </summary>
public sealed class FeatureMemberRefitTests(ITestOutputHelper output)
{
    private static readonly TrainingOptions Small = new()
    {
        Device = "cpu",
        Models = ModelHyperParameters.Defaults
            .With(RecurrentNextEventDetector.GruKind, p => p with { Hidden = 16, Epochs = 1, LearningRate = 0.01, MaxTrainEvents = 5_000 })
            .With(EnsembleDetector.Kind, p => p with { Members = ["gru", "zscore"], SelectMembers = false }),
    };

    [Fact]
    public void A_refit_candidates_zscore_member_follows_the_samples_and_off_keeps_the_champions()
    {
        var ct = TestContext.Current.CancellationToken;
        var (original, anchors, released, probe) = ReleaseData();
        using var champion = (EnsembleDetector)DetectorTrainer.Train("ensemble", original, Small, cancellation: ct);
        var samples = OnlineModels.SamplesOf(released);
        var options = new OnlineLearningOptions { StepsPerVersion = 2, NewTypeMinCount = 1_000_000 };

        var on = new SequenceFineTuner(options with { RefitFeatureMembers = true }, Small).FineTune(champion, null, samples, anchors, ct);
        using var refitted = (EnsembleDetector)on.Candidate;
        var off = new SequenceFineTuner(options, Small).FineTune(champion, null, samples, anchors, ct);
        using var kept = (EnsembleDetector)off.Candidate;

        var before = ZScore(champion).Scaler;
        var after = ZScore(refitted).Scaler;
        int other = FeatureSchema.Names.ToList().IndexOf("count_other_24h");
        var rows = FeatureMatrix.Sample(probe, 2_000, seed: 1);
        var shown = Enumerable.Range(0, rows.Rows).Where(r => rows.Row(r)[other] > 0).ToArray();
        Assert.NotEmpty(shown);
        double zBefore = shown.Average(r => AbsZ(before, rows.Row(r), other)), zAfter = shown.Average(r => AbsZ(after, rows.Row(r), other));
        output.WriteLine($"count_other_24h of {shown.Length} unseen released rows: mean |z| {zBefore:F2} -> {zAfter:F2} " +
            $"(centre {before.Center[other]} -> {after.Center[other]}, scale {before.Scale[other]:F3} -> {after.Scale[other]:F3})");

        // The champion's scaling makes the new type extreme; the refitted one sees it as part of the population.
        Assert.True(zBefore >= 10, $"|z| {zBefore} under the champion");
        Assert.True(zAfter <= 3, $"|z| {zAfter} after the refit");
        Assert.Equal(["zscore"], on.RefittedMembers);
        Assert.True(ZScore(refitted).Calibration.SampleSize > 0);
        Assert.NotEqual(champion.Version, refitted.Version);
        Assert.NotEqual(kept.Version, refitted.Version);
        Assert.Contains("\"refitted_members\":[\"zscore\"]", on.DetailJson());

        // Off: the scaling stays the champion's (only the thresholds are new).
        Assert.Empty(off.RefittedMembers);
        Assert.Equal(before.Center.ToArray(), ZScore(kept).Scaler.Center.ToArray());
        Assert.Equal(before.Scale.ToArray(), ZScore(kept).Scaler.Scale.ToArray());

        // Deterministic: the same samples and seed fit the same scaling.
        var data = new BehaviorDataset([.. samples.Select(s => s.Events), .. anchors.Users], anchors.WindowCapacity);
        using var again = ZScore(champion).Refitted(data, options.Seed);
        using var twice = ZScore(champion).Refitted(data, options.Seed);
        Assert.Equal(again.Scaler.Center.ToArray(), twice.Scaler.Center.ToArray());
        Assert.Equal(again.Scaler.Scale.ToArray(), twice.Scaler.Scale.ToArray());
    }

    private static readonly TrainingOptions SmallWithAutoencoder = Small with
    {
        Models = Small.Models
            .With(AutoencoderDetector.Kind, p => p with { Hidden = 16, Bottleneck = 4, Epochs = 2 })
            .With(EnsembleDetector.Kind, p => p with { Members = ["gru", "zscore", "ae"], SelectMembers = false }),
    };

    [Fact]
    public void Refit_autoencoder_steps_train_the_candidates_autoencoder_on_with_its_scaling_kept_and_the_file_round_trips()
    {
        var ct = TestContext.Current.CancellationToken;
        var (original, anchors, released, probe) = ReleaseData();
        using var champion = (EnsembleDetector)DetectorTrainer.Train("ensemble", original, SmallWithAutoencoder, cancellation: ct);
        var samples = OnlineModels.SamplesOf(released);
        var options = new OnlineLearningOptions { StepsPerVersion = 2, NewTypeMinCount = 1_000_000, RefitFeatureMembers = true };

        var zscoreOnly = new SequenceFineTuner(options, SmallWithAutoencoder).FineTune(champion, null, samples, anchors, ct);
        using var zscoreOnlyCandidate = zscoreOnly.Candidate;
        var on = new SequenceFineTuner(options with { RefitAutoencoderSteps = 300 }, SmallWithAutoencoder).FineTune(champion, null, samples, anchors, ct);
        using var refitted = (EnsembleDetector)on.Candidate;

        // 0 steps (the default): the autoencoder keeps its fit; steps: it is refitted too, its scaling the champion's.
        Assert.Equal(["zscore"], zscoreOnly.RefittedMembers);
        Assert.Equal(["zscore", "ae"], on.RefittedMembers);
        Assert.Contains("\"refitted_members\":[\"zscore\",\"ae\"]", on.DetailJson());
        var before = Autoencoder(champion);
        var after = Autoencoder(refitted);
        Assert.Equal(before.Scaler.Center.ToArray(), after.Scaler.Center.ToArray());
        Assert.Equal(before.Scaler.Scale.ToArray(), after.Scaler.Scale.ToArray());
        Assert.True(after.Calibration.SampleSize > 0);
        Assert.NotEqual(zscoreOnlyCandidate.Version, refitted.Version);

        // The network learnt the released population: its reconstruction error (uncalibrated copies, the same scaling)
        // on unseen released users is lower than the champion network's.
        var data = new BehaviorDataset([.. samples.Select(s => s.Events), .. anchors.Users], anchors.WindowCapacity);
        var inputs = LastEvents(probe);
        using var kept = before.WithNetworkTrainedOn(data, options.Seed, steps: 0);
        using var trained = before.WithNetworkTrainedOn(data, options.Seed, steps: 300);
        double errorBefore = MeanScore(kept, inputs), errorAfter = MeanScore(trained, inputs);
        output.WriteLine($"ae reconstruction error on {inputs.Length} unseen released users: {errorBefore:F3} -> {errorAfter:F3}");
        Assert.True(errorAfter < 0.5 * errorBefore, $"reconstruction error {errorBefore} -> {errorAfter}");

        // Deterministic: the same rows, seed and steps train the same network.
        using var again = before.WithNetworkTrainedOn(data, options.Seed, steps: 300);
        Assert.Equal(trained.Version, again.Version);

        // The refitted candidate is an ordinary model file: saved and loaded it has the same version and scores.
        string path = Path.Combine(Directory.CreateTempSubdirectory("sd-ae-refit-").FullName, "candidate.sdm");
        try
        {
            refitted.Save(path);
            using var loaded = DetectorFile.Load(path, torch.CPU);
            Assert.Equal(refitted.Version, loaded.Version);
            var saved = refitted.ScoreBatch(inputs);
            var read = loaded.ScoreBatch(inputs);
            for (int i = 0; i < inputs.Length; i++)
            {
                for (int e = 0; e < saved[i].Count; e++) Assert.Equal(saved[i].ScoreAt(e), read[i].ScoreAt(e));
            }
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    private static AutoencoderDetector Autoencoder(EnsembleDetector ensemble) => ensemble.Members.OfType<AutoencoderDetector>().Single();

    /// <summary>Each user's last two events as one input each, its window before them as context.</summary>
    private static ScoringInput[] LastEvents(BehaviorDataset data) => data.Users.Select(u =>
    {
        var replay = u.StartReplay(data.WindowCapacity);
        int take = Math.Min(2, u.Count);
        while (replay.Position < u.Count - take) replay.Advance();
        return replay.AdvanceAsInput(take);
    }).ToArray();

    private static double MeanScore(AnomalyDetector detector, ScoringInput[] inputs) =>
        detector.ScoreBatch(inputs).SelectMany(o => Enumerable.Range(0, o.Count).Select(o.ScoreAt)).Average();

    private static RobustZScoreDetector ZScore(EnsembleDetector ensemble) => ensemble.Members.OfType<RobustZScoreDetector>().Single();

    private static double AbsZ(StreamDetect.Models.Scaling.FeatureScaler scaler, ReadOnlySpan<float> row, int feature) =>
        Math.Abs((row[feature] - scaler.Center[feature]) / scaler.Scale[feature]);

    // Two days of shoppers before a release, the anchors drawn from them, and users of the release (learned from, and
    // a probe the round never saw) who use the new type "assistant".
    private static (BehaviorDataset Original, AnchorReservoir Anchors, BehaviorDataset Released, BehaviorDataset Probe) ReleaseData()
    {
        var sessions = SessionSettings.Default;
        var original = DatasetBuilder.Build(SyntheticTraffic.Shoppers(normalUsers: 80, anomalousUsers: 0, days: 2, seed: 31), sessions: sessions);
        var anchors = AnchorReservoir.Sample(original, capacity: 60, seed: 3);
        var released = DatasetBuilder.Build(ReleasedShoppers.Generate(60, days: 2, startDay: 3, seed: 5, prefix: "r", newType: "assistant"), sessions: sessions);
        var probe = DatasetBuilder.Build(ReleasedShoppers.Generate(30, days: 2, startDay: 3, seed: 6, prefix: "p", newType: "assistant"), sessions: sessions);
        return (original, anchors, released, probe);
    }
}
