using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Events;
using StreamDetect.Models.Features;
using StreamDetect.Models.Sequence;
using StreamDetect.Models.Tests.Support;
using StreamDetect.Models.Training;

namespace StreamDetect.Models.Tests.Sequence;

/// <summary>The LSTM learns a deterministic grammar and flags what breaks it.</summary>
public sealed class LstmNextEventTests : IClassFixture<LstmNextEventTests.GrammarModel>
{
    private readonly GrammarModel _model;

    public LstmNextEventTests(GrammarModel model) => _model = model;

    public sealed class GrammarModel : IDisposable
    {
        public GrammarModel()
        {
            Data = DatasetBuilder.Build(SyntheticTraffic.GrammarUsers(users: 150, cycles: 5, seed: 3));
            var options = new TrainingOptions
            {
                Device = "cpu",
                Models = ModelHyperParameters.Defaults.With(RecurrentNextEventDetector.LstmKind, p => p with { Epochs = 12, LearningRate = 0.01, Patience = 3 }),
            };
            Detector = (RecurrentNextEventDetector)DetectorTrainer.Train("lstm", Data, options);
        }

        public BehaviorDataset Data { get; }

        public RecurrentNextEventDetector Detector { get; }

        public void Dispose() => Detector.Dispose();
    }

    [Fact]
    public void It_predicts_the_next_event_of_a_deterministic_grammar_with_over_99_percent_accuracy()
    {
        var fresh = DatasetBuilder.Build(SyntheticTraffic.GrammarUsers(users: 40, cycles: 5, seed: 99));
        int correct = 0, total = 0;
        foreach (var user in fresh.Users)
        {
            var (_, _, predicted) = _model.Detector.ScoreSequence(user.Entries);
            for (int i = 0; i < predicted.Length; i++)
            {
                total++;
                if (predicted[i] == user.Entries[i].Type) correct++;
            }
        }
        double accuracy = (double)correct / total;
        Assert.True(accuracy > 0.99, $"next-event accuracy {accuracy:P2} ({correct}/{total})");
    }

    [Fact]
    public void An_injected_out_of_grammar_event_is_outside_the_top_k_and_raises_the_score_above_the_threshold()
    {
        var t0 = SyntheticTraffic.T0;
        var events = new List<UserEvent>();
        long t = t0;
        for (int c = 0; c < 3; c++)
            foreach (string type in SyntheticTraffic.Cycle)
            {
                events.Add(new UserEvent("probe", t, type));
                t += 10_000;
            }
        // "checkout" right after "login" never happens in the grammar.
        events.Insert(15, new UserEvent("probe", events[14].TimestampMs + 5_000, "checkout"));
        for (int i = 16; i < events.Count; i++) events[i] = new UserEvent("probe", events[i].TimestampMs + 10_000, events[i].Type);

        var outputs = ScoreOneByOne(_model.Detector, events);
        var injected = outputs[15];
        var reason = injected.Explanation.UnexpectedEvents[0];
        Assert.Equal("checkout", reason.Type);
        Assert.True(reason.OutsideTopK, "the injected event should be outside the top-k predictions");
        Assert.DoesNotContain(reason.Expected, e => e.Type == "checkout");
        Assert.Equal("view", reason.Expected[0].Type);

        double threshold = _model.Detector.Threshold.For(0.005, 1);
        Assert.All(outputs.Take(15), o => Assert.True(o.Score < threshold, $"a normal event scored {o.Score:F2} >= threshold {threshold:F2}"));
        Assert.True(injected.Score > threshold, $"the injected event scored {injected.Score:F2}, threshold {threshold:F2}");
    }

    [Fact]
    public void An_event_type_never_seen_in_training_maps_to_unk_and_scores_as_highly_unexpected()
    {
        Assert.Equal(Models.Vocabulary.EventVocabulary.UnknownToken, _model.Detector.Tokenizer.Vocabulary.TokenOf("teleport"));
        var events = SyntheticTraffic.Cycle.Select((type, i) => new UserEvent("probe", SyntheticTraffic.T0 + i * 10_000L, type)).ToList();
        events.Insert(3, new UserEvent("probe", SyntheticTraffic.T0 + 25_000, "teleport"));
        var outputs = ScoreOneByOne(_model.Detector, events.OrderBy(e => e.TimestampMs).ToList());
        var unknown = outputs[3];
        Assert.Equal("teleport", unknown.Explanation.UnexpectedEvents[0].Type);
        Assert.True(unknown.Explanation.UnexpectedEvents[0].Surprise >= _model.Detector.HyperParameters.UnknownSurprise);
        Assert.True(unknown.Score > _model.Detector.Threshold.For(0.005, 1));
        Assert.True(unknown.Score > 3 * outputs[2].Score, $"unknown {unknown.Score:F2} vs previous {outputs[2].Score:F2}");
    }

    internal static List<ScoringOutput> ScoreOneByOne(IAnomalyDetector detector, IReadOnlyList<UserEvent> events, int window = 32)
    {
        var state = new UserBehaviorState(window);
        ModelStateSlot? slot = null;
        var outputs = new List<ScoringOutput>();
        foreach (var e in events)
        {
            state.Apply(e);
            var output = detector.ScoreBatch([new ScoringInput(e.UserId, state.Window.ToArray(), 1, state.Features(), slot, state.EventCount)])[0];
            slot = output.NewState;
            outputs.Add(output);
        }
        return outputs;
    }
}
