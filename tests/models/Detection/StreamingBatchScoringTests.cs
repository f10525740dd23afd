using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Tests.Support;

namespace StreamDetect.Models.Tests.Detection;

/// <summary>
/// Scoring in the streaming shape (a batch of 1024 users, one new event each, with the states kept from
/// the batch before, or without them so they are rebuilt from the window): every user gets a finite
/// score, and the batch does not change the answer by a single bit (whole, in chunks of 100, of 7, of 3
/// in reverse order, one at a time), as alerts must not depend on how the engine's scorer happened to
/// batch (the reason the networks pad their batches: BatchRows). How fast
/// this runs is measured by tests/benchmarks (StreamingScoringBenchmark), not here.
/// </summary>
public sealed class StreamingBatchScoringTests(TrainedDetectors trained)
{
    private const int BatchSize = 1024;
    public static TheoryData<string> Models => new() { "lstm", "gru", "transformer", "ae", "gan", "zscore", "iforest", "knn", "novelty", "ensemble" };

    [Theory]
    [MemberData(nameof(Models))]
    public void A_users_score_and_state_do_not_depend_on_the_batch_it_is_scored_in(string model)
    {
        var detector = trained.Get(model);
        var (kept, rebuild) = Batch(detector, BatchSize);
        foreach (var inputs in new[] { kept, rebuild })
        {
            var whole = detector.ScoreBatch(inputs);
            Assert.Equal(inputs.Length, whole.Length);
            Assert.All(whole, o => Assert.True(double.IsFinite(o.Score), $"{model}: score {o.Score}"));

            AssertSame(model, whole, detector.ScoreBatch(inputs)); // scoring leaves nothing behind in the detector
            AssertSame(model, whole, inputs.Chunk(100).SelectMany(detector.ScoreBatch).ToArray());
            AssertSame(model, whole, inputs.Chunk(7).SelectMany(detector.ScoreBatch).ToArray());
            var reversed = inputs.Reverse().Chunk(3).SelectMany(detector.ScoreBatch).Reverse().ToArray();
            AssertSame(model, whole, reversed);
            AssertSame(model, whole[..16], inputs[..16].Select(i => detector.ScoreBatch([i])[0]).ToArray());
        }
    }

    private static void AssertSame(string model, ScoringOutput[] expected, ScoringOutput[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Count, actual[i].Count);
            for (int e = 0; e < expected[i].Count; e++)
            {
                Assert.True(BitConverter.DoubleToInt64Bits(expected[i].RawScoreAt(e)) == BitConverter.DoubleToInt64Bits(actual[i].RawScoreAt(e)),
                    $"{model}, input {i}: raw score {expected[i].RawScoreAt(e):R} in one batch, {actual[i].RawScoreAt(e):R} in another");
                Assert.True(BitConverter.DoubleToInt64Bits(expected[i].ScoreAt(e)) == BitConverter.DoubleToInt64Bits(actual[i].ScoreAt(e)),
                    $"{model}, input {i}: score {expected[i].ScoreAt(e):R} in one batch, {actual[i].ScoreAt(e):R} in another");
            }
            Assert.Equal(expected[i].NewState is null, actual[i].NewState is null);
            if (expected[i].NewState is not { } state) continue;
            var other = actual[i].NewState!;
            Assert.Equal(state.ModelKey, other.ModelKey);
            Assert.Equal(state.EventsFolded, other.EventsFolded);
            Assert.Equal(state.Values.Length, other.Values.Length);
            for (int v = 0; v < state.Values.Length; v++)
                Assert.True(BitConverter.SingleToInt32Bits(state.Values[v]) == BitConverter.SingleToInt32Bits(other.Values[v]),
                    $"{model}, input {i}: state value {v} is {state.Values[v]:R} in one batch, {other.Values[v]:R} in another");
        }
    }

    /// <summary>A batch of users one event after a state was kept (and the same without state).</summary>
    private (ScoringInput[] Kept, ScoringInput[] Rebuild) Batch(IAnomalyDetector detector, int size)
    {
        var users = new List<(BehaviorSample Previous, BehaviorSample Next)>();
        foreach (var user in trained.Data.Users)
        {
            var samples = user.Replay(32).TakeLast(2).ToArray();
            if (samples.Length == 2) users.Add((samples[0], samples[1]));
        }
        while (users.Count < size) users.AddRange(users.Take(size - users.Count).ToArray());
        users = users.Take(size).ToList();
        var before = detector.ScoreBatch(users.Select(u => u.Previous.ToScoringInput(null)).ToArray());
        var kept = users.Select((u, i) => u.Next.ToScoringInput(before[i].NewState)).ToArray();
        var rebuild = users.Select(u => u.Next.ToScoringInput(null)).ToArray();
        return (kept, rebuild);
    }
}
