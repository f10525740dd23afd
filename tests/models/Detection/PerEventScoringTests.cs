using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;
using StreamDetect.Models.Tests.Support;
using TorchSharp;

namespace StreamDetect.Models.Tests.Detection;

/// <summary>
/// Every detector gives each new event the verdict it gets when the user's events are scored one at a time
/// with the state passed along (what calibration and eval do), however the events are grouped into inputs
/// and the inputs into batches: the score, the explanation and the state after the newest event.
/// </summary>
public sealed class PerEventScoringTests(TrainedDetectors trained, ITestOutputHelper log) : IDisposable
{
    /// <summary>
    /// Not bitwise: float32 matrix products give results that depend in the last bits on the shape of the call
    /// (rows in the batch, steps per recurrent call, padding of a Transformer batch), so one event scored among
    /// others differs from the same event scored alone by ~1e-7 relative. 1e-5 is far below anything that
    /// matters on the calibrated scale (3 = 1 normal user-day in 1000).
    /// </summary>
    private const double Tolerance = 1e-5;

    private readonly string _directory = Directory.CreateTempSubdirectory("sd-per-event-").FullName;
    private readonly List<IAnomalyDetector> _loaded = [];

    public static TheoryData<string> Models => new() { "lstm", "gru", "transformer", "ae", "gan", "knn", "zscore", "iforest", "novelty", "ensemble" };

    public static TheoryData<string> RecurrentModels => new() { "lstm", "gru" };

    private int Capacity => trained.Data.WindowCapacity;

    public void Dispose()
    {
        foreach (var detector in _loaded) detector.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Events_in_groups_of_2_to_7_get_the_verdicts_of_one_at_a_time(string model)
    {
        var detector = Explaining(model);
        foreach (var user in Users())
        {
            var expected = OneAtATime(detector, user);
            var replay = user.StartReplay(Capacity);
            for (int group = 0; replay.HasNext; group++)
            {
                int from = replay.Position;
                var input = replay.AdvanceAsInput(Math.Min(2 + group % 6, user.Count - from));
                var output = detector.ScoreBatch([input])[0];
                replay.DetectorState = output.NewState;
                AssertSame(expected, from, input, output, $"{model} {user.UserId} group {group}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void All_of_a_users_events_in_one_input_get_the_verdicts_of_one_at_a_time(string model)
    {
        var detector = Explaining(model);
        foreach (var user in Users())
        {
            var expected = OneAtATime(detector, user);
            var input = user.StartReplay(Capacity).AdvanceAsInput(user.Count);
            var output = detector.ScoreBatch([input])[0];
            Assert.Equal(user.Count, output.Count);
            AssertSame(expected, 0, input, output, $"{model} {user.UserId} all at once");
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Groups_mixed_in_batches_with_other_users_get_the_verdicts_of_one_at_a_time(string model)
    {
        var detector = Explaining(model);
        var users = Users();
        var expected = users.Select(u => OneAtATime(detector, u)).ToArray();
        var replays = users.Select(u => u.StartReplay(Capacity)).ToArray();
        for (int round = 0; replays.Any(r => r.HasNext); round++)
        {
            // Every user with events left brings 1..7 of them; the batch order rotates from round to round.
            var batch = new List<(int User, int From, ScoringInput Input)>();
            for (int k = 0; k < users.Length; k++)
            {
                int u = (k + round) % users.Length;
                var replay = replays[u];
                if (!replay.HasNext) continue;
                int from = replay.Position;
                batch.Add((u, from, replay.AdvanceAsInput(Math.Min((u + round) % 7 + 1, users[u].Count - from))));
            }
            var outputs = detector.ScoreBatch(batch.Select(b => b.Input).ToArray());
            for (int q = 0; q < batch.Count; q++)
            {
                var (u, from, input) = batch[q];
                replays[u].DetectorState = outputs[q].NewState;
                AssertSame(expected[u], from, input, outputs[q], $"{model} {users[u].UserId} round {round}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void More_new_events_than_the_window_holds_get_the_verdicts_of_one_at_a_time(string model)
    {
        var detector = Explaining(model);
        // A long-lived user: a full window of context, then more new events than the window holds, in one input
        // (e.g. after a stall), beside a young user whose every event arrives at once.
        var users = DatasetBuilder.Build(SyntheticTraffic.Shoppers(normalUsers: 4, anomalousUsers: 0, days: 30, seed: 5)).Users
            .OrderByDescending(u => u.Count).ToArray();
        var old = users[0];
        int context = Capacity + 3, fresh = Capacity * 2 + 5;
        Assert.True(old.Count >= context + fresh, $"the longest user has {old.Count} events");
        var expected = OneAtATime(detector, old);
        var replay = old.StartReplay(Capacity);
        while (replay.Position < context) replay.Advance();
        replay.DetectorState = expected[context - 1].State;
        var input = replay.AdvanceAsInput(fresh);
        Assert.Equal(Capacity + fresh, input.Window.Length);

        var young = trained.Data.Users.First(u => u.Count > Capacity + 5);
        var youngExpected = OneAtATime(detector, young);
        var youngInput = young.StartReplay(Capacity).AdvanceAsInput(young.Count);

        var outputs = detector.ScoreBatch([input, youngInput]);
        AssertSame(expected, context, input, outputs[0], $"{model} {old.UserId} {fresh} new events");
        AssertSame(youngExpected, 0, youngInput, outputs[1], $"{model} {young.UserId} all at once");
    }

    [Theory]
    [MemberData(nameof(RecurrentModels))]
    public void A_recurrent_state_after_k_grouped_events_equals_the_state_after_k_single_steps(string model)
    {
        var detector = trained.Get(model);
        var user = Users()[0];
        var single = OneAtATime(detector, user);
        for (int k = 1; k <= 7; k++)
        {
            var replay = user.StartReplay(Capacity);
            for (int e = 0; e < 10; e++) replay.Advance();
            replay.DetectorState = single[9].State;
            var output = detector.ScoreBatch([replay.AdvanceAsInput(k)])[0];
            var state = output.NewState!;
            var expected = single[9 + k].State!;
            Assert.Equal((expected.ModelKey, expected.EventsFolded), (state.ModelKey, state.EventsFolded));
            Assert.Equal(expected.Values.Length, state.Values.Length);
            for (int v = 0; v < expected.Values.Length; v++)
                ExplanationAssert.Near(expected.Values[v], state.Values[v], Tolerance, $"{model}: value {v} of the state after {k} grouped events");
        }
    }

    [Fact]
    public void Validate_rejects_features_that_are_not_one_row_per_new_event_naming_the_user()
    {
        var input = Users()[0].StartReplay(Capacity).AdvanceAsInput(3);
        input.Validate();
        var oneRow = input with { Features = input.Features[..FeatureSchema.Count] };
        var error = Assert.Throws<ArgumentException>(oneRow.Validate);
        Assert.Contains($"'{input.UserId}'", error.Message);
        Assert.Contains("3 new events", error.Message);
        Assert.Throws<ArgumentException>((input with { Features = [.. input.Features, 0f] }).Validate);
        Assert.Contains($"'{input.UserId}'", Assert.Throws<ArgumentException>(() => trained.Get("zscore").ScoreBatch([oneRow])).Message);
    }

    [Fact]
    public void An_output_reads_its_own_events_and_the_newest_as_Score_and_Explanation()
    {
        var detector = Explaining("zscore");
        var users = Users();
        var inputs = users.Select(u => u.StartReplay(Capacity).AdvanceAsInput(Math.Min(5, u.Count))).ToArray();
        var outputs = detector.ScoreBatch(inputs);
        for (int i = 0; i < inputs.Length; i++)
        {
            var output = outputs[i];
            Assert.Equal(inputs[i].NewEvents, output.Count);
            Assert.Equal(output.ScoreAt(output.Count - 1), output.Score);
            Assert.Equal(output.RawScoreAt(output.Count - 1), output.Explanation.RawScore);
            Assert.Throws<ArgumentOutOfRangeException>(() => output.ScoreAt(output.Count));
            Assert.Throws<ArgumentOutOfRangeException>(() => output.ExplanationAt(-1));
            var alone = detector.ScoreBatch([inputs[i]])[0];
            for (int e = 0; e < output.Count; e++) ExplanationAssert.Near(alone.ScoreAt(e), output.ScoreAt(e), Tolerance, $"{users[i].UserId} event {e}");
        }
    }

    /// <summary>A user's verdicts scored one event at a time from its first event, as calibration and eval score them.</summary>
    private List<(double Score, Explanation Explanation, ModelStateSlot? State)> OneAtATime(IAnomalyDetector detector, UserSequence user)
    {
        var verdicts = new List<(double, Explanation, ModelStateSlot?)>(user.Count);
        ModelStateSlot? state = null;
        foreach (var sample in user.Replay(Capacity))
        {
            var output = detector.ScoreBatch([sample.ToScoringInput(state)])[0];
            Assert.Equal(1, output.Count);
            state = output.NewState;
            verdicts.Add((output.Score, output.Explanation, state));
        }
        return verdicts;
    }

    private void AssertSame(List<(double Score, Explanation Explanation, ModelStateSlot? State)> expected, int from, ScoringInput input, ScoringOutput output, string where)
    {
        Assert.Equal(input.NewEvents, output.Count);
        double worst = 0;
        for (int e = 0; e < output.Count; e++)
        {
            var (score, explanation, _) = expected[from + e];
            worst = Math.Max(worst, Math.Abs(score - output.ScoreAt(e)));
            ExplanationAssert.Near(score, output.ScoreAt(e), Tolerance, $"{where}: score of event {from + e}");
            var actual = output.ExplanationAt(e);
            ExplanationAssert.Same(explanation, actual, Tolerance, $"{where}: event {from + e}");
            foreach (var unexpected in actual.UnexpectedEvents)
                Assert.Equal(unexpected.TimestampMs, input.Window[unexpected.WindowIndex].TimestampMs);
        }
        var state = expected[from + output.Count - 1].State;
        Assert.Equal(state is null, output.NewState is null);
        if (state is not null)
        {
            Assert.Equal((state.ModelKey, state.EventsFolded), (output.NewState!.ModelKey, output.NewState.EventsFolded));
            Assert.Equal(state.Values.Length, output.NewState.Values.Length);
            for (int v = 0; v < state.Values.Length; v++)
                ExplanationAssert.Near(state.Values[v], output.NewState.Values[v], Tolerance, $"{where}: state value {v}");
        }
        if (worst > 0) log.WriteLine($"{where}: largest score difference {worst:E2}");
    }

    /// <summary>Normal users longer than the window, a short one, a scraper and a card tester.</summary>
    private UserSequence[] Users()
    {
        var users = trained.Data.Users;
        return
        [
            .. users.Where(u => u.UserId.StartsWith("n-", StringComparison.Ordinal) && u.Count > Capacity + 8).Take(3),
            users.First(u => u.UserId.StartsWith("n-", StringComparison.Ordinal) && u.Count is >= 5 and <= 12),
            users.First(u => u.UserId == "a-0"),
            users.First(u => u.UserId == "a-1"),
        ];
    }

    /// <summary>A copy of the trained detector that explains every event (so explanations are compared everywhere).</summary>
    private IAnomalyDetector Explaining(string model)
    {
        string path = Path.Combine(_directory, model + ".sdm");
        trained.Get(model).Save(path);
        var detector = DetectorFile.Load(path, torch.CPU);
        _loaded.Add(detector);
        ((AnomalyDetector)detector).ExplainFrom = 0;
        return detector;
    }
}
