using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Ensemble;
using StreamDetect.Models.Online;
using StreamDetect.Models.Sequence;
using StreamDetect.Models.Tests.Support;
using StreamDetect.Models.Training;

namespace StreamDetect.Models.Tests.Online;

/// <summary>Every sequence kind fine-tunes, and an ensemble through its sequence member (the others kept as they were).</summary>
[Collection(OnlineModelsCollection.Name)]
public sealed class DetectorKindsFineTuningTests(OnlineModels models, ITestOutputHelper output)
{
    private static readonly TrainingOptions Small = new()
    {
        Device = "cpu",
        Models = ModelHyperParameters.Defaults
            .With(RecurrentNextEventDetector.GruKind, p => p with { Hidden = 32, Epochs = 3, LearningRate = 0.01, MaxTrainEvents = 30_000 })
            .With(TransformerNextEventDetector.Kind, p => p with { Epochs = 2, MaxTrainEvents = 30_000 })
            .With(EnsembleDetector.Kind, p => p with { Members = ["gru", "zscore"], SelectMembers = false }),
    };

    public static TheoryData<string> Kinds => new() { "gru", "transformer", "ensemble" };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_kind_fine_tunes_into_a_calibrated_candidate_of_the_same_kind(string kind)
    {
        var ct = TestContext.Current.CancellationToken;
        var original = models.Anchors.ToDataset();
        using var champion = DetectorTrainer.Train(kind, original, Small, cancellation: ct);
        string hashBefore = ((AnomalyDetector)champion).ToFile().ContentHash();
        var options = new OnlineLearningOptions { LearningRate = 0.003, StepsPerVersion = 30, MaxDistance = 0.3, DistancePenalty = 0.01 };
        var result = new SequenceFineTuner(options, Small).FineTune(champion, null, OnlineModels.SamplesOf(models.Released), models.Anchors, ct);
        using var candidate = result.Candidate;

        double before = NextEventLoss.Mean(champion, models.ReleasedProbe), after = NextEventLoss.Mean(candidate, models.ReleasedProbe);
        output.WriteLine($"{kind}: loss on unseen released users {before:F3} -> {after:F3}, {result.Elapsed.TotalSeconds:F1} s, distance {result.Distance:F3}");
        Assert.Equal(champion.Name, candidate.Name);
        Assert.Equal(hashBefore, ((AnomalyDetector)champion).ToFile().ContentHash());
        Assert.NotEqual(champion.Version, candidate.Version);
        Assert.True(candidate.Threshold.IsFitted);
        Assert.True(after < before, $"{kind}: {after} vs {before}");
        if (candidate is EnsembleDetector ensemble)
        {
            var members = ((EnsembleDetector)champion).Members;
            // The same members; the sequence member is the one that learned (every member is calibrated again).
            Assert.Equal(members.Select(m => m.Name), ensemble.Members.Select(m => m.Name));
            Assert.True(NextEventLoss.Mean(ensemble.Members[0], models.ReleasedProbe) < NextEventLoss.Mean(members[0], models.ReleasedProbe));
            Assert.All(ensemble.Members, m => Assert.True(m.Calibration.SampleSize > 0, $"{m.Name} calibrated"));
        }
    }

    public static TheoryData<string> GrowingKinds => new() { "transformer", "ensemble" };

    [Theory]
    [MemberData(nameof(GrowingKinds))]
    public void A_kind_learns_a_new_type_in_a_reserved_slot_and_keeps_it_through_its_model_file(string kind)
    {
        var ct = TestContext.Current.CancellationToken;
        using var champion = DetectorTrainer.Train(kind, models.Anchors.ToDataset(), Small, cancellation: ct);
        var sessions = StreamDetect.Models.Sessions.SessionSettings.Default;
        var released = DatasetBuilder.Build(ReleasedShoppers.Generate(80, days: 2, startDay: 3, seed: 5, prefix: "r", newType: "assistant"), sessions: sessions);
        var probe = DatasetBuilder.Build(ReleasedShoppers.Generate(40, days: 2, startDay: 3, seed: 6, prefix: "p", newType: "assistant"), sessions: sessions);
        var options = new OnlineLearningOptions { LearningRate = 0.003, StepsPerVersion = 30, MaxDistance = 0.3, DistancePenalty = 0.01, NewTypeMinCount = 20 };
        var result = new SequenceFineTuner(options, Small).FineTune(champion, null, OnlineModels.SamplesOf(released), models.Anchors, ct);
        using var candidate = result.Candidate;

        double before = NextEventLoss.Mean(champion, probe), after = NextEventLoss.Mean(candidate, probe);
        output.WriteLine($"{kind}: assigned [{string.Join(", ", result.Vocabulary.Assigned)}], loss on unseen released users {before:F3} -> {after:F3}");
        Assert.Equal(["assistant"], result.Vocabulary.Assigned);
        Assert.True(after < before, $"{kind}: {after} vs {before}");
        var vocabulary = SequenceMember.Trainable(candidate).Tokenizer.Vocabulary;
        Assert.NotEqual(StreamDetect.Models.Vocabulary.EventVocabulary.UnknownToken, vocabulary.TokenOf("assistant"));
        Assert.Equal(StreamDetect.Models.Vocabulary.EventVocabulary.UnknownToken, SequenceMember.Trainable(champion).Tokenizer.Vocabulary.TokenOf("assistant"));
        using var loaded = DetectorCopy.FromBytes(((AnomalyDetector)candidate).ToFile().ToBytes(), "reloaded", TorchSharp.torch.CPU);
        Assert.Equal(candidate.Version, loaded.Version);
        Assert.Equal(vocabulary.TokenOf("assistant"), SequenceMember.Trainable(loaded).Tokenizer.Vocabulary.TokenOf("assistant"));
    }
}
