using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Online;
using StreamDetect.Models.Replay;
using TorchSharp;

namespace StreamDetect.Models.Tests.Online;

[Collection(OnlineModelsCollection.Name)]
public sealed class SequenceFineTunerTests(OnlineModels models, ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly OnlineLearningOptions Options = new()
    {
        LearningRate = 0.005, StepsPerVersion = 60, BatchSize = 32, MaxDistance = 0.5, DistancePenalty = 0.01,
        AnchorShare = 0.3, AnchorLossTolerance = 0.5, RecentLossTolerance = 0, CanaryRecallDrop = 0.1, AlertBudget = 0.05,
    };

    [Fact]
    public void Fine_tuning_on_shifted_normal_traffic_lowers_its_loss_and_leaves_the_champion_unchanged()
    {
        var champion = models.Champion;
        string hashBefore = champion.ToFile().ContentHash();
        var scoresBefore = UserMaxima(champion, models.ReleasedProbe);

        var result = new SequenceFineTuner(Options, OnlineModels.Training).FineTune(champion, null, OnlineModels.SamplesOf(models.Released), models.Anchors, Ct);
        using var candidate = result.Candidate;
        output.WriteLine($"{result.Steps} steps, {result.TrainingSamples} samples, {result.TrainedEvents} events, {result.Elapsed.TotalSeconds:F1} s; loss {result.FirstLoss:F3} -> {result.LastLoss:F3}; distance {result.Distance:F4}");

        Assert.Equal(hashBefore, champion.ToFile().ContentHash());
        Assert.Equal(scoresBefore, UserMaxima(champion, models.ReleasedProbe));
        Assert.Equal(champion.Version, result.ParentVersion);
        Assert.NotEqual(champion.Version, candidate.Version);
        Assert.True(candidate.Threshold.IsFitted, "the candidate has its own threshold");

        double championLoss = NextEventLoss.Mean(champion, models.ReleasedProbe);
        double candidateLoss = NextEventLoss.Mean(candidate, models.ReleasedProbe);
        output.WriteLine($"loss on unseen released users: champion {championLoss:F3}, candidate {candidateLoss:F3}");
        Assert.True(candidateLoss < championLoss * 0.9, $"candidate loss {candidateLoss:F3} vs champion {championLoss:F3}");

        var gates = new PromotionGates(Options).Evaluate(champion, candidate, result.HeldBack, models.Anchors.ToDataset(), models.Canaries, Ct);
        foreach (var gate in gates) output.WriteLine($"{gate.Gate}: {gate.Value:F4} (bound {gate.Bound:F4}) {(gate.Passed ? "passed" : "FAILED")}");
        Assert.All(gates, g => Assert.True(g.Passed, $"{g.Gate}: {g.Value} vs {g.Bound}"));
        // At the alert budget on today's normal traffic the drifted champion spends its alerts on normal users; the
        // candidate catches the attacks again.
        Assert.True(gates.Single(g => g.Gate == PromotionGates.CanaryRecall).Value >= 0.9, "candidate canary recall");
    }

    [Fact]
    public void The_distance_from_the_base_weights_stays_within_its_bound()
    {
        var tight = Options with { LearningRate = 0.01, DistancePenalty = 0, MaxDistance = 0.01, StepsPerVersion = 40 };
        var result = new SequenceFineTuner(tight, OnlineModels.Training).FineTune(models.Champion, null, OnlineModels.SamplesOf(models.Released), models.Anchors, Ct);
        using var candidate = result.Candidate;
        double measured = RelativeDistance(candidate, models.Champion);
        output.WriteLine($"bound 0.01: reported {result.Distance:F5}, measured {measured:F5}");
        Assert.InRange(measured, 0.005, 0.01 + 1e-4);

        // The same round without the bound goes further: the projection is what held it.
        var loose = tight with { MaxDistance = 1 };
        var unbounded = new SequenceFineTuner(loose, OnlineModels.Training).FineTune(models.Champion, null, OnlineModels.SamplesOf(models.Released), models.Anchors, Ct);
        using var far = unbounded.Candidate;
        double farDistance = RelativeDistance(far, models.Champion);
        output.WriteLine($"bound 1: measured {farDistance:F5}");
        Assert.True(farDistance > 0.02, $"unbounded distance {farDistance}");
    }

    [Fact]
    public void A_candidate_fine_tuned_on_attack_sequences_fails_the_canary_gate()
    {
        // Poisoning without the guard: attack users handed to the fine-tuner as if they were normal.
        var attack = Options with { LearningRate = 0.01, StepsPerVersion = 80, AnchorShare = 0.1, MaxDistance = 1, DistancePenalty = 0 };
        var poisoned = DatasetBuilder.Build(Support.SyntheticTraffic.Shoppers(normalUsers: 0, anomalousUsers: 40, days: 3, seed: 31), sessions: StreamDetect.Models.Sessions.SessionSettings.Default);
        var result = new SequenceFineTuner(attack, OnlineModels.Training).FineTune(models.Champion, null, OnlineModels.SamplesOf(poisoned), models.Anchors, Ct);
        using var candidate = result.Candidate;
        var gates = new PromotionGates(attack).Evaluate(models.Champion, candidate, models.OriginalProbe, models.Anchors.ToDataset(), models.Canaries, Ct);
        foreach (var gate in gates) output.WriteLine($"{gate.Gate}: {gate.Value:F4} (bound {gate.Bound:F4}) {(gate.Passed ? "passed" : "FAILED")}");
        var canary = Assert.Single(gates, g => g.Gate == PromotionGates.CanaryRecall);
        Assert.Contains("\"gate\":\"canary-recall\"", GateResult.ToJson(gates));
        Assert.False(canary.Passed, $"canary recall {canary.Value} vs bound {canary.Bound}");
        Assert.False(PromotionGates.AllPassed(gates));
    }

    [Fact]
    public void A_saved_candidate_loads_with_the_same_version_and_scores()
    {
        var result = new SequenceFineTuner(Options with { StepsPerVersion = 10 }, OnlineModels.Training)
            .FineTune(models.Champion, null, OnlineModels.SamplesOf(models.Released), models.Anchors, Ct);
        using var candidate = result.Candidate;
        string path = Path.Combine(Path.GetTempPath(), $"candidate-{Guid.NewGuid():N}.sdm");
        try
        {
            candidate.Save(path);
            using var loaded = DetectorFile.Load(path, "cpu");
            Assert.Equal(candidate.Version, loaded.Version);
            Assert.Equal(UserMaxima(candidate, models.ReleasedProbe), UserMaxima(loaded, models.ReleasedProbe));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_fine_tuning_round_leaves_no_tensor_alive_once_its_candidate_is_disposed()
    {
        var tuner = new SequenceFineTuner(Options with { StepsPerVersion = 5 }, OnlineModels.Training);
        var samples = OnlineModels.SamplesOf(models.Released);
        tuner.FineTune(models.Champion, null, samples, models.Anchors, Ct).Candidate.Dispose(); // warm-up (lazy caches)

        var statistics = DisposeScopeManager.Statistics;
        long before = statistics.ThreadTotalLiveCount;
        for (int round = 0; round < 2; round++)
        {
            var result = tuner.FineTune(models.Champion, null, samples, models.Anchors, Ct);
            new PromotionGates(Options).Evaluate(models.Champion, result.Candidate, result.HeldBack, models.Anchors.ToDataset(), models.Canaries, Ct);
            result.Candidate.Dispose();
        }
        Assert.Equal(before, statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Time_and_samples_of_a_fine_tuning_round_on_cpu()
    {
        var options = new OnlineLearningOptions(); // the shipped defaults: 100 steps of 32 chunks, half of them anchors
        var samples = OnlineModels.SamplesOf(models.Released);
        var result = new SequenceFineTuner(options, OnlineModels.Training).FineTune(models.Champion, null, samples, models.Anchors, Ct);
        using var candidate = result.Candidate;
        output.WriteLine($"cpu round: {result.Steps} steps x {options.BatchSize} chunks, {result.TrainingSamples} samples + {result.AnchorUsers} anchor users, " +
            $"{result.TrainedEvents} predicted events, {result.Elapsed.TotalSeconds:F2} s ({result.TrainedEvents / result.Elapsed.TotalSeconds:F0} events/s), held back {result.HeldBack.Users.Count}");
        output.WriteLine(result.DetailJson());
        Assert.Equal(options.StepsPerVersion, result.Steps);
        Assert.Equal(samples.Count, result.TrainingSamples + result.HeldBack.Users.Count);
    }

    private static double[] UserMaxima(IAnomalyDetector detector, BehaviorDataset data)
    {
        var maxima = new double[data.Users.Count];
        Array.Fill(maxima, double.NegativeInfinity);
        StreamingReplay.Run(data, detector, new ReplayOptions(256), s => maxima[s.UserIndex] = Math.Max(maxima[s.UserIndex], s.Output.ScoreAt(s.Output.Count - 1)), Ct);
        return maxima;
    }

    private static double RelativeDistance(IAnomalyDetector candidate, IAnomalyDetector baseVersion)
    {
        var a = SequenceMember.Trainable(candidate).Module.parameters().ToArray();
        var b = SequenceMember.Trainable(baseVersion).Module.parameters().ToArray();
        double distance = 0, norm = 0;
        for (int i = 0; i < a.Length; i++)
        {
            var x = a[i].data<float>().ToArray();
            var y = b[i].data<float>().ToArray();
            for (int j = 0; j < x.Length; j++)
            {
                distance += (double)(x[j] - y[j]) * (x[j] - y[j]);
                norm += (double)y[j] * y[j];
            }
        }
        return Math.Sqrt(distance / norm);
    }
}
