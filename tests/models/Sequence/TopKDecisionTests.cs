using StreamDetect.Models.Dataset;
using StreamDetect.Models.Events;
using StreamDetect.Models.Sequence;
using StreamDetect.Models.Tests.Support;
using StreamDetect.Models.Training;

namespace StreamDetect.Models.Tests.Sequence;

/// <summary>A GRU in DeepLog's top-k mode, trained on a deterministic grammar: an event outside the model's k most
/// likely next events alerts, whatever the wanted rate, and an event inside does not.</summary>
public sealed class TopKDecisionTests : IClassFixture<TopKDecisionTests.GrammarModel>
{
    private readonly GrammarModel _model;

    public TopKDecisionTests(GrammarModel model) => _model = model;

    public sealed class GrammarModel : IDisposable
    {
        public GrammarModel()
        {
            var data = DatasetBuilder.Build(SyntheticTraffic.GrammarUsers(users: 150, cycles: 5, seed: 3));
            var options = new TrainingOptions
            {
                Device = "cpu",
                Models = ModelHyperParameters.Defaults.With(RecurrentNextEventDetector.GruKind,
                    p => p with { Epochs = 12, LearningRate = 0.01, Patience = 3, Decision = NextEventDecisionMode.TopK, TopK = 1 }),
            };
            Detector = (RecurrentNextEventDetector)DetectorTrainer.Train("gru", data, options);
            Detector.ExplainFrom = 0; // every verdict explained, whatever the score the rule alerts from
        }

        public RecurrentNextEventDetector Detector { get; }

        public void Dispose() => Detector.Dispose();
    }

    [Fact]
    public void An_event_outside_the_top_k_alerts_and_one_inside_does_not()
    {
        var events = new List<UserEvent>();
        long t = SyntheticTraffic.T0;
        for (int c = 0; c < 3; c++)
            foreach (string type in SyntheticTraffic.Cycle)
            {
                events.Add(new UserEvent("probe", t, type));
                t += 10_000;
            }
        // "checkout" right after "login" is never the most likely next event of the grammar.
        events.Insert(15, new UserEvent("probe", events[14].TimestampMs + 5_000, "checkout"));
        for (int i = 16; i < events.Count; i++) events[i] = new UserEvent("probe", events[i].TimestampMs + 10_000, events[i].Type);

        var detector = _model.Detector;
        Assert.Equal(NextEventDecisionMode.TopK, detector.Decision.Mode);
        Assert.Equal(1, detector.Decision.K);
        var threshold = detector.Threshold;
        Assert.NotNull(threshold.DecisionScore);
        // The rule, not the rate, decides.
        Assert.Equal(threshold.For(0.005, 1), threshold.For(0.2, 7));

        var outputs = LstmNextEventTests.ScoreOneByOne(detector, events);
        double alertAt = threshold.For(0.005, 1);
        Assert.All(outputs.Take(15), o => Assert.True(o.Score < alertAt, $"an event inside the top k scored {o.Score:F2} >= {alertAt:F2}"));
        var injected = outputs[15];
        Assert.True(injected.Score >= alertAt, $"the event outside the top k scored {injected.Score:F2} < {alertAt:F2}");
        Assert.True(injected.RawScoreAt(0) >= 1);
        var reason = injected.Explanation;
        Assert.Contains("top-1", reason.Decision, StringComparison.Ordinal);
        Assert.Equal("checkout", reason.UnexpectedEvents[0].Type);
        Assert.True(reason.UnexpectedEvents[0].OutsideTopK);
    }

    [Fact]
    public void Top_k_scoring_event_by_event_equals_full_pass_scoring()
    {
        var events = new List<UserEvent>();
        long t = SyntheticTraffic.T0;
        foreach (string type in SyntheticTraffic.Cycle.Concat(["login", "checkout", "view", "teleport"]).Concat(SyntheticTraffic.Cycle))
        {
            events.Add(new UserEvent("probe", t, type));
            t += 10_000;
        }
        var detector = _model.Detector;
        var (evidence, scores, _) = detector.ScoreSequence(DatasetBuilder.Build(events).Users[0].Entries);
        var outputs = LstmNextEventTests.ScoreOneByOne(detector, events);

        for (int i = 0; i < events.Count; i++) Assert.Equal(scores[i], outputs[i].RawScoreAt(0), 1e-5);
        Assert.Contains(evidence, e => e >= 1); // the out-of-grammar events
        Assert.Contains(evidence, e => e < 0.5);
    }
}
