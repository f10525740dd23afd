using StreamDetect.Models.Baselines;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Ensemble;
using StreamDetect.Models.Features;
using StreamDetect.Models.Online;
using StreamDetect.Models.Sequence;
using StreamDetect.Models.Sessions;
using StreamDetect.Models.Tests.Support;
using StreamDetect.Models.Training;

namespace StreamDetect.Models.Tests.Online;

/// <summary>
/// refit-feature-members: a fine-tuned ensemble's z-score member is refitted on the round's samples and the anchors
/// (a release's new type, counted in count_other_*, is no longer extreme for it), and left as it was with the option off.
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
        var sessions = SessionSettings.Default;
        var original = DatasetBuilder.Build(SyntheticTraffic.Shoppers(normalUsers: 80, anomalousUsers: 0, days: 2, seed: 31), sessions: sessions);
        var anchors = AnchorReservoir.Sample(original, capacity: 60, seed: 3);
        var released = DatasetBuilder.Build(ReleasedShoppers.Generate(60, days: 2, startDay: 3, seed: 5, prefix: "r", newType: "assistant"), sessions: sessions);
        var probe = DatasetBuilder.Build(ReleasedShoppers.Generate(30, days: 2, startDay: 3, seed: 6, prefix: "p", newType: "assistant"), sessions: sessions);
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

    private static RobustZScoreDetector ZScore(EnsembleDetector ensemble) => ensemble.Members.OfType<RobustZScoreDetector>().Single();

    private static double AbsZ(StreamDetect.Models.Scaling.FeatureScaler scaler, ReadOnlySpan<float> row, int feature) =>
        Math.Abs((row[feature] - scaler.Center[feature]) / scaler.Scale[feature]);
}
