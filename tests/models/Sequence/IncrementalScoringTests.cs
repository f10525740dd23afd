using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;
using StreamDetect.Models.Sequence;
using StreamDetect.Models.Tests.Support;

namespace StreamDetect.Models.Tests.Sequence;

/// <summary>Scoring one recurrent step per event from a kept state gives what a full pass gives.</summary>
public sealed class IncrementalScoringTests(TrainedDetectors trained)
{
    private const double Tolerance = 1e-5;

    public static TheoryData<string> RecurrentModels => new() { "lstm", "gru" };

    [Theory]
    [MemberData(nameof(RecurrentModels))]
    public void Scoring_event_by_event_equals_full_window_scoring_of_the_same_sequence(string model)
    {
        var detector = (RecurrentNextEventDetector)trained.Get(model);
        foreach (var user in LongUsers(4, maxEvents: 32))
        {
            var (surprises, scores, _) = detector.ScoreSequence(user.Entries);
            ModelStateSlot? state = null;
            int i = 0;
            foreach (var sample in user.Replay(32))
            {
                var output = detector.ScoreBatch([sample.ToScoringInput(state)])[0];
                state = output.NewState;
                Assert.Equal(scores[i], output.Explanation.RawScore, Tolerance);
                Assert.Equal(surprises[i], Ring(detector, state!)[^1], Tolerance);
                i++;
            }
        }
    }

    [Theory]
    [MemberData(nameof(RecurrentModels))]
    public void Several_new_events_per_user_and_mixed_batches_score_as_one_step_at_a_time(string model)
    {
        var detector = (RecurrentNextEventDetector)trained.Get(model);
        var users = LongUsers(6, maxEvents: 30);
        var replays = users.Select(u => u.StartReplay(32)).ToArray();
        var expected = users.Select(u => detector.ScoreSequence(u.Entries).Scores).ToArray();
        // Each round, user u brings (u % 3) + 1 new events; users 0 and 3 lose their state once (rebuilt from the window).
        for (int round = 0; replays.Any(r => r.HasNext); round++)
        {
            var batch = new List<(int User, ScoringInput Input)>();
            for (int u = 0; u < users.Length; u++)
            {
                var replay = replays[u];
                int take = Math.Min(u % 3 + 1, users[u].Count - replay.Position);
                if (take == 0) continue;
                if (round == 2 && u % 3 == 0) replay.DetectorState = null;
                batch.Add((u, replay.AdvanceAsInput(take)));
            }
            var outputs = detector.ScoreBatch(batch.Select(b => b.Input).ToArray());
            for (int q = 0; q < batch.Count; q++)
            {
                var (u, input) = batch[q];
                replays[u].DetectorState = outputs[q].NewState;
                Assert.Equal(expected[u][replays[u].Position - 1], outputs[q].Explanation.RawScore, Tolerance);
                // Every new event's own score, not only the newest's.
                for (int e = 0; e < outputs[q].Count; e++)
                    Assert.Equal(expected[u][replays[u].Position - input.NewEvents + e], outputs[q].RawScoreAt(e), Tolerance);
            }
        }
    }

    [Fact]
    public void A_stale_or_foreign_state_is_rebuilt_from_the_window()
    {
        var detector = (RecurrentNextEventDetector)trained.Get("lstm");
        var user = LongUsers(1, maxEvents: 20)[0];
        var samples = user.Replay(32).ToArray();
        var expected = detector.ScoreSequence(user.Entries).Scores[^1];
        var good = detector.ScoreBatch([samples[^2].ToScoringInput(null)])[0].NewState!;

        var stale = good with { EventsFolded = good.EventsFolded - 1 };
        var foreign = good with { ModelKey = "gru@0000" };
        var garbage = good with { Values = [1f, 2f] };
        foreach (var state in new[] { stale, foreign, garbage })
        {
            var output = detector.ScoreBatch([samples[^1].ToScoringInput(state)])[0];
            Assert.Equal(expected, output.Explanation.RawScore, Tolerance);
        }
    }

    private static float[] Ring(RecurrentNextEventDetector detector, ModelStateSlot state) =>
        state.Values[^detector.HyperParameters.SurpriseWindow..];

    private UserSequence[] LongUsers(int count, int maxEvents) =>
        trained.Data.Users.Where(u => u.Count >= 12 && u.Count <= maxEvents).Take(count).ToArray();
}
