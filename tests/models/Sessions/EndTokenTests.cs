using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Evaluation;
using StreamDetect.Models.Events;
using StreamDetect.Models.Sequence;
using StreamDetect.Models.Sessions;
using StreamDetect.Models.Training;
using StreamDetect.Models.Vocabulary;

namespace StreamDetect.Models.Tests.Sessions;

/// <summary>
/// The next-event models learn where sessions end (the <c>&lt;end&gt;</c> token): a GRU trained on sessions that always
/// end with logout gives a session that stops at checkout (no logout, then a long gap) a clearly higher score at its
/// end marker than normal sessions get at theirs, and explains it.
/// </summary>
public sealed class EndTokenTests(EndTokenTests.SessionModel model, ITestOutputHelper log) : IClassFixture<EndTokenTests.SessionModel>
{
    private static readonly long T0 = new DateTimeOffset(2026, 11, 2, 8, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
    private const long Minute = 60_000;

    /// <summary>A small GRU (a few seconds of CPU) trained on sessions that all end with logout.</summary>
    public sealed class SessionModel : IDisposable
    {
        public SessionModel()
        {
            Data = DatasetBuilder.Build(Sessions("n", users: 200, sessions: 5, seed: 5), 32, SessionSettings.Default);
            var options = new TrainingOptions
            {
                Device = "cpu",
                Models = ModelHyperParameters.Defaults.With(RecurrentNextEventDetector.GruKind,
                    p => p with { Hidden = 32, FieldEmbedding = 8, Epochs = 20, LearningRate = 0.02, Patience = 3 }),
            };
            Detector = (RecurrentNextEventDetector)DetectorTrainer.Train("gru", Data, options);
            Detector.ExplainFrom = double.NegativeInfinity;
        }

        public BehaviorDataset Data { get; }

        public RecurrentNextEventDetector Detector { get; }

        public void Dispose() => Detector.Dispose();
    }

    /// <summary>Users whose sessions are "login, view (1-3), [cart, checkout, purchase], logout", hours apart.</summary>
    private static List<UserEvent> Sessions(string prefix, int users, int sessions, int seed)
    {
        var random = new Random(seed);
        var events = new List<UserEvent>();
        for (int u = 0; u < users; u++)
        {
            long t = T0 + random.Next(0, 3_600_000);
            for (int s = 0; s < sessions; s++)
            {
                foreach (string type in SessionTypes(random)) events.Add(new UserEvent($"{prefix}-{u}", t += 5_000 + random.Next(0, 30_000), type));
                t += 2 * 3_600_000 + random.Next(0, 3_600_000);
            }
        }
        return [.. events.OrderBy(e => e.TimestampMs)];
    }

    private static IEnumerable<string> SessionTypes(Random random)
    {
        yield return "login";
        for (int v = random.Next(1, 4); v > 0; v--) yield return "view";
        if (random.NextDouble() < 0.5)
        {
            yield return "cart";
            yield return "checkout";
            yield return "purchase";
        }
        yield return "logout";
    }

    /// <summary>Every entry of every user scored one at a time, as the stream does (state passed along).</summary>
    private List<(UserSequence User, int Index, ScoringOutput Output)> ScoreEntries(BehaviorDataset data)
    {
        var scored = new List<(UserSequence, int, ScoringOutput)>();
        foreach (var user in data.Users)
        {
            var replay = user.StartReplay(data.WindowCapacity);
            while (replay.HasNext)
            {
                var output = model.Detector.ScoreBatch([replay.AdvanceAsInput(1)])[0];
                replay.DetectorState = output.NewState;
                scored.Add((user, replay.Position - 1, output));
            }
        }
        return scored;
    }

    [Fact]
    public void The_vocabulary_holds_the_end_token_and_the_tokenizer_knows_after_what_sessions_end()
    {
        Assert.True(model.Detector.Tokenizer.Vocabulary.HasEndToken);
        Assert.Equal(["logout"], model.Detector.Tokenizer.SessionEndsAfter);
        // Learned from data without a single marker, the vocabulary still holds it.
        var plain = EventTokenizer.Learn([[new Models.Features.WindowEntry("view", 0, float.NaN, 0, 0)]]);
        Assert.True(plain.Vocabulary.HasEndToken);
        Assert.Empty(plain.SessionEndsAfter);
    }

    [Fact]
    public void A_session_that_stops_at_checkout_scores_clearly_higher_at_its_marker_than_normal_sessions_at_theirs()
    {
        var normal = DatasetBuilder.Build(Sessions("fresh", users: 30, sessions: 3, seed: 77), 32, SessionSettings.Default);
        var normalMarkers = ScoreEntries(normal).Where(s => s.User.IsEndMarker(s.Index)).ToList();
        Assert.Equal(90, normalMarkers.Count);

        // A normal session, then one that stops after checkout: no purchase, no logout, then hours of silence.
        var probe = new List<UserEvent>();
        long t = T0;
        foreach (string type in new[] { "login", "view", "cart", "checkout", "purchase", "logout" }) probe.Add(new UserEvent("probe", t += 20_000, type));
        t += 3 * 3_600_000;
        foreach (string type in new[] { "login", "view", "cart", "checkout" }) probe.Add(new UserEvent("probe", t += 20_000, type));
        probe.Add(new UserEvent("probe", t + 5 * 3_600_000, "login"));
        var probed = ScoreEntries(DatasetBuilder.Build(probe, 32, SessionSettings.Default));
        Assert.Equal(["login", "view", "cart", "checkout", "purchase", "logout", EventTypes.SessionEnd,
            "login", "view", "cart", "checkout", EventTypes.SessionEnd, "login", EventTypes.SessionEnd], probed.Select(s => s.User.Entries[s.Index].Type));
        var abandoned = probed[11].Output;

        double normalMax = normalMarkers.Max(s => s.Output.RawScoreAt(0));
        double abandonedRaw = abandoned.RawScoreAt(0);
        log.WriteLine($"abandoned marker {abandonedRaw:F2} nats ({Describe(abandoned)}); normal markers at most {normalMax:F2}");
        Assert.True(abandonedRaw > 2 * normalMax && abandonedRaw > normalMax + 3,
            $"the abandoned session's marker scored {abandonedRaw:F2} nats, normal markers at most {normalMax:F2}; abandoned: {Describe(abandoned)}; worst normal: {Describe(normalMarkers.MaxBy(s => s.Output.RawScoreAt(0)).Output)}");
        Assert.True(abandoned.Score > model.Detector.Threshold.For(0.005, 1), $"calibrated {abandoned.Score:F2}");

        var end = abandoned.Explanation.SessionEnd;
        Assert.NotNull(end);
        Assert.Equal("checkout", end.EndedAfter);
        Assert.Equal(["logout"], end.NormalEndsAfter);
        Assert.True(end.EndProbability < 0.05, $"p(end after checkout) {end.EndProbability}");
        Assert.Equal("purchase", end.Expected[0].Type);
        Assert.StartsWith("session ended after checkout; normal sessions end after logout; expected next: purchase (p ", end.Describe());
        Assert.Contains("(p of ending here ", end.Describe());
        Assert.Equal(EventTypes.SessionEnd, abandoned.Explanation.UnexpectedEvents[0].Type);

        // A normal marker is expected: the end after logout is likely.
        var normalEnd = probed[6].Output.Explanation.SessionEnd;
        Assert.NotNull(normalEnd);
        Assert.True(normalEnd.EndProbability > 0.5, $"p(end after logout) {normalEnd.EndProbability}");
    }

    private static string Describe(ScoringOutput o) =>
        string.Join(" | ", o.Explanation.UnexpectedEvents.Select(u => $"{u.Type}@{u.WindowIndex} {u.Surprise:F2} [{string.Join(",", u.Expected.Select(x => $"{x.Type}:{x.Probability:F3}"))}]"))
        + (o.Explanation.SessionEnd is { } end ? " :: " + end.Describe() : "");

    [Fact]
    public void Incremental_scoring_gives_markers_the_surprises_of_a_full_pass()
    {
        var user = model.Data.Users[0];
        var (surprises, scores, _) = model.Detector.ScoreSequence(user.Entries);
        var replay = user.StartReplay(model.Data.WindowCapacity);
        var output = model.Detector.ScoreBatch([replay.AdvanceAsInput(user.Count)])[0];
        for (int i = 0; i < user.Count; i++)
            Assert.Equal(scores[i], output.RawScoreAt(i), 1e-4);
        Assert.All(Enumerable.Range(0, user.Count).Where(user.IsEndMarker), i => Assert.True(float.IsFinite(surprises[i])));
    }

    [Fact]
    public void A_saved_and_loaded_model_keeps_the_end_token_and_where_sessions_end()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("sd-end-token-").FullName, "gru.sdm");
        try
        {
            model.Detector.Save(path);
            using var loaded = (RecurrentNextEventDetector)DetectorFile.Load(path, TorchSharp.torch.CPU);
            Assert.Equal(model.Detector.Tokenizer.Vocabulary.Types, loaded.Tokenizer.Vocabulary.Types);
            Assert.Equal(["logout"], loaded.Tokenizer.SessionEndsAfter);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [Fact]
    public void Evaluation_scores_every_marker_once()
    {
        var data = DatasetBuilder.Build(Sessions("eval", users: 10, sessions: 2, seed: 9), 32, SessionSettings.Default);
        var result = Evaluator.Evaluate(model.Detector, data, TruthTable.Empty, new EvaluationOptions(BatchSize: 7), TestContext.Current.CancellationToken);
        Assert.Equal(data.EntryCount, result.Report.EventsScored);
        Assert.Equal(data.EventCount + 20, data.EntryCount);
    }
}
