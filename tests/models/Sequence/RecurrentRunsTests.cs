using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;
using StreamDetect.Models.Tests.Support;

namespace StreamDetect.Models.Tests.Sequence;

/// <summary>
/// A recurrent detector runs the users of a batch with equal step counts together, one network call per run.
/// What the runs share (the embedding lookup, the log-softmax over every run's logits) gives each user, to the
/// bit, what a batch holding only that run gives.
/// </summary>
public sealed class RecurrentRunsTests(TrainedDetectors trained)
{
    public static TheoryData<string> RecurrentModels => new() { "lstm", "gru" };

    [Theory]
    [MemberData(nameof(RecurrentModels))]
    public void Users_with_different_numbers_of_new_events_get_what_their_run_alone_gets_to_the_bit(string model)
    {
        var detector = trained.Get(model);
        var users = trained.Data.Users.Where(u => u.Count > 30).Take(48).ToArray();
        // Each user with a kept state and 1..6 new events (so 6 runs), or no state (the whole window is one run).
        var inputs = new List<ScoringInput>();
        for (int u = 0; u < users.Length; u++)
        {
            var replay = users[u].StartReplay(trained.Data.WindowCapacity);
            var first = replay.AdvanceAsInput(12);
            replay.DetectorState = u % 8 == 7 ? null : detector.ScoreBatch([first])[0].NewState;
            inputs.Add(replay.AdvanceAsInput(1 + u % 6));
        }
        var together = detector.ScoreBatch(inputs);
        foreach (var run in inputs.Select((input, index) => (input, index)).GroupBy(x => x.input.State is null ? -x.input.Window.Length : x.input.NewEvents))
        {
            var members = run.ToArray();
            var alone = detector.ScoreBatch(members.Select(x => x.input).ToArray());
            for (int q = 0; q < members.Length; q++)
            {
                var expected = alone[q];
                var actual = together[members[q].index];
                for (int e = 0; e < expected.Count; e++)
                    Assert.Equal(BitConverter.DoubleToInt64Bits(expected.RawScoreAt(e)), BitConverter.DoubleToInt64Bits(actual.RawScoreAt(e)));
                Assert.Equal(expected.NewState!.Values.Select(BitConverter.SingleToInt32Bits), actual.NewState!.Values.Select(BitConverter.SingleToInt32Bits));
            }
        }
    }
}
