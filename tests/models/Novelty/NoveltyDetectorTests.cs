using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Events;
using StreamDetect.Models.Features;
using StreamDetect.Models.Novelty;
using StreamDetect.Models.Sessions;
using StreamDetect.Models.Training;
using TorchSharp;

namespace StreamDetect.Models.Tests.Novelty;

/// <summary>
/// The novelty detector trained on sessions drawn from three paths: it flags a type and a transition never seen,
/// and, at an end marker, a session shorter than any and one whose per-type counts were never seen; a normal
/// session stays below the threshold; the model file round-trips; a state rebuilt from the window scores as the
/// state passed along does.
/// </summary>
public sealed class NoveltyDetectorTests : IClassFixture<NoveltyDetectorTests.Trained>
{
    private static readonly string[][] Paths =
    [
        ["login", "view", "cart", "checkout", "purchase", "logout"],
        ["login", "view", "view", "view", "view", "logout"],
        ["login", "search", "view", "cart", "logout"],
    ];

    private static readonly long T0 = new DateTimeOffset(2026, 11, 1, 8, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    private readonly Trained _trained;

    public NoveltyDetectorTests(Trained trained) => _trained = trained;

    /// <summary>A novelty detector trained once on 300 users x 4 sessions a day x 3 days (paths 60/25/15 %).</summary>
    public sealed class Trained : IDisposable
    {
        public Trained()
        {
            var random = new Random(3);
            var events = new List<UserEvent>();
            for (int u = 0; u < 300; u++)
            {
                long t = T0 + random.Next(0, 3_600_000);
                for (int s = 0; s < 12; s++)
                {
                    double pick = random.NextDouble();
                    var path = Paths[pick < 0.6 ? 0 : pick < 0.85 ? 1 : 2];
                    foreach (string type in path)
                    {
                        events.Add(new UserEvent($"u-{u}", t, type));
                        t += 5_000 + random.Next(0, 20_000);
                    }
                    t += 4 * 3_600_000L + random.Next(0, 3_600_000); // well past the 30 min split gap
                }
            }
            Detector = (NoveltyDetector)DetectorTrainer.Train("novelty", DatasetBuilder.Build(events.OrderBy(e => e.TimestampMs)),
                new TrainingOptions { Device = "cpu" });
        }

        public NoveltyDetector Detector { get; }

        public void Dispose() => Detector.Dispose();
    }

    private double Threshold => _trained.Detector.Threshold.For(0.005);

    /// <summary>Entries 15 s apart; "&lt;end&gt;" becomes an end marker at the previous event's time.</summary>
    private static WindowEntry[] Session(params string[] types)
    {
        var entries = new WindowEntry[types.Length];
        long t = T0 + 10 * 86_400_000L;
        for (int i = 0; i < types.Length; i++)
        {
            if (types[i] == EventTypes.SessionEnd)
            {
                entries[i] = SessionRule.EndMarker(entries[i - 1].TimestampMs);
                continue;
            }
            entries[i] = new WindowEntry(types[i], t, float.NaN, 0, 0);
            t += 15_000;
        }
        return entries;
    }

    /// <summary>Scores every entry as a new event of one input (the user's whole history in the window).</summary>
    private ScoringOutput ScoreAll(WindowEntry[] window) =>
        _trained.Detector.ScoreBatch([new ScoringInput("u", window, window.Length, new float[window.Length * FeatureSchema.Count], null, window.Length)])[0];

    private static double Max(ScoringOutput output) => Enumerable.Range(0, output.Count).Max(output.ScoreAt);

    [Fact]
    public void A_normal_session_with_its_end_stays_below_the_threshold()
    {
        var output = ScoreAll(Session([.. Paths[0], EventTypes.SessionEnd]));
        Assert.True(Max(output) < Threshold, $"normal session scored {Max(output):F3}, threshold {Threshold:F3}");
        for (int i = 0; i < output.Count; i++) Assert.True(output.RawScoreAt(i) < Math.Log(2), $"event {i}: raw {output.RawScoreAt(i)} shows novelty evidence");
    }

    [Fact]
    public void A_type_never_seen_in_training_is_flagged_at_once_and_named()
    {
        var output = ScoreAll(Session("login", "view", "export_all_addresses", "cart"));
        Assert.True(output.ScoreAt(1) < Threshold);
        Assert.True(output.ScoreAt(2) >= Threshold, $"unseen type scored {output.ScoreAt(2):F3}, threshold {Threshold:F3}");
        var explanation = output.ExplanationAt(2);
        Assert.Contains(explanation.UnexpectedEvents, e => e.Type == "export_all_addresses");
        Assert.Contains(explanation.Features, f => f.Feature.Contains("export_all_addresses type never seen", StringComparison.Ordinal));
    }

    [Fact]
    public void A_transition_never_seen_in_training_is_flagged_and_named_with_what_normally_follows()
    {
        var output = ScoreAll(Session("login", "purchase"));
        Assert.True(output.ScoreAt(0) < Threshold);
        Assert.True(output.ScoreAt(1) >= Threshold, $"unseen transition scored {output.ScoreAt(1):F3}, threshold {Threshold:F3}");
        var explanation = output.ExplanationAt(1);
        var unexpected = Assert.Single(explanation.UnexpectedEvents);
        Assert.Equal("purchase", unexpected.Type);
        Assert.Contains(unexpected.Expected, e => e.Type == "view");
        Assert.Contains(explanation.Features, f => f.Feature.Contains("purchase never follows login", StringComparison.Ordinal));
    }

    [Fact]
    public void A_session_that_ends_too_short_is_flagged_at_its_end_marker()
    {
        var output = ScoreAll(Session("login", "view", EventTypes.SessionEnd));
        Assert.True(output.ScoreAt(1) < Threshold, "the open session is normal so far");
        Assert.True(output.ScoreAt(2) >= Threshold, $"the close scored {output.ScoreAt(2):F3}, threshold {Threshold:F3}");
        var explanation = output.ExplanationAt(2);
        Assert.Contains(explanation.Features, f => f.Feature.StartsWith("session_length (normal 5..6)", StringComparison.Ordinal) && f.Value == 2);
        Assert.Contains(explanation.UnexpectedEvents, e => e.Type == EventTypes.SessionEnd); // view never ends a session
        Assert.NotNull(explanation.SessionEnd);
        Assert.Equal("view", explanation.SessionEnd.EndedAfter);
        Assert.Equal(0, explanation.SessionEnd.EndProbability);
        Assert.Equal(["logout"], explanation.SessionEnd.NormalEndsAfter);
    }

    [Fact]
    public void A_closed_session_with_a_count_vector_never_seen_is_flagged_at_its_end_marker()
    {
        // Every transition, count, length and the duration were seen; their combination was not.
        var output = ScoreAll(Session("login", "view", "view", "cart", "logout", EventTypes.SessionEnd));
        for (int i = 0; i < 5; i++) Assert.True(output.RawScoreAt(i) < Math.Log(2), $"event {i}: raw {output.RawScoreAt(i)}");
        Assert.True(output.ScoreAt(5) >= Threshold, $"the close scored {output.ScoreAt(5):F3}, threshold {Threshold:F3}");
        var feature = Assert.Single(output.ExplanationAt(5).Features);
        Assert.StartsWith("session_count_vector", feature.Feature);
    }

    [Fact]
    public void The_session_resets_after_its_end_marker()
    {
        var output = ScoreAll(Session(["login", "purchase", EventTypes.SessionEnd, .. Paths[0]]));
        Assert.True(output.ScoreAt(1) >= Threshold);
        for (int i = 3; i < output.Count; i++) Assert.True(output.ScoreAt(i) < Threshold, $"event {i} of the next session scored {output.ScoreAt(i):F3}");
    }

    [Fact]
    public void A_state_rebuilt_from_the_window_scores_as_the_state_passed_along()
    {
        var window = Session("login", "view", "view", "view", "view", "view", "logout");
        ModelStateSlot? state = null;
        var alongRaw = new double[window.Length];
        for (int i = 0; i < window.Length; i++)
        {
            var output = _trained.Detector.ScoreBatch([new ScoringInput("u", window[..(i + 1)], 1, new float[FeatureSchema.Count], state, i + 1)])[0];
            alongRaw[i] = output.RawScoreAt(0);
            state = output.NewState;
        }
        Assert.True(alongRaw[5] >= Math.Log(2), "five views are more than any training session held");
        for (int i = 1; i < window.Length; i++)
        {
            var rebuilt = _trained.Detector.ScoreBatch([new ScoringInput("u", window[..(i + 1)], 1, new float[FeatureSchema.Count], null, i + 1)])[0];
            Assert.Equal(alongRaw[i], rebuilt.RawScoreAt(0));
        }
    }

    [Fact]
    public void The_model_file_round_trips_to_the_same_scores()
    {
        string directory = Directory.CreateTempSubdirectory("sd-novelty-").FullName;
        try
        {
            string path = Path.Combine(directory, "novelty.sdm");
            _trained.Detector.Save(path);
            using var loaded = DetectorFile.Load(path, torch.CPU);
            Assert.Equal("novelty", loaded.Name);
            Assert.Equal(_trained.Detector.Version, loaded.Version);
            var window = Session("login", "view", "export_all_addresses", "cart", "logout", EventTypes.SessionEnd, "login", "view");
            var input = new ScoringInput("u", window, window.Length, new float[window.Length * FeatureSchema.Count], null, window.Length);
            var before = _trained.Detector.ScoreBatch([input])[0];
            var after = loaded.ScoreBatch([input])[0];
            for (int i = 0; i < window.Length; i++)
            {
                Assert.Equal(before.RawScoreAt(i), after.RawScoreAt(i));
                Assert.Equal(before.ScoreAt(i), after.ScoreAt(i));
            }
            Assert.Equal(before.NewState!.Values, after.NewState!.Values);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
