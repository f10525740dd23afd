using StreamDetect.Models.Dataset;
using StreamDetect.Models.Features;
using StreamDetect.Models.Sequence;
using StreamDetect.Models.Tests.Support;

namespace StreamDetect.Models.Tests.Sequence;

/// <summary>
/// The Transformer scored one step per event from its cached keys and values gives what full forward passes over
/// whole blocks give (<see cref="TransformerNextEventDetector.ScoreSequence"/>), over sequences several windows long.
/// </summary>
public sealed class TransformerIncrementalScoringTests(TrainedDetectors trained, ITestOutputHelper log)
{
    /// <summary>Float rounding only: the cached step sums the attention on the host, the full pass inside libtorch.</summary>
    private const double Tolerance = 1e-4;

    private const int Capacity = 32;

    [Fact]
    public void Scoring_event_by_event_from_the_cache_equals_full_block_scoring_over_sequences_that_slide_past_the_window()
    {
        var detector = Detector();
        var users = LongUsers();
        double worst = 0;
        foreach (var user in users)
        {
            Assert.True(user.Count > 3 * Capacity, $"{user.UserId} has {user.Count} events");
            var (surprises, scores) = detector.ScoreSequence(user.Entries);
            ModelStateSlot? state = null;
            int i = 0;
            foreach (var sample in user.Replay(Capacity))
            {
                var output = detector.ScoreBatch([sample.ToScoringInput(state)])[0];
                state = output.NewState!;
                Assert.Equal(i + 1, state.EventsFolded);
                float surprise = state.Values[Capacity - 1]; // the ring's newest
                Assert.True(Math.Abs(surprises[i] - surprise) <= Tolerance, $"{user.UserId} event {i}: surprise {surprise} vs full {surprises[i]}");
                Assert.True(Math.Abs(scores[i] - output.Explanation.RawScore) <= Tolerance, $"{user.UserId} event {i}: raw score {output.Explanation.RawScore} vs full {scores[i]}");
                worst = Math.Max(worst, Math.Abs(scores[i] - output.Explanation.RawScore));
                i++;
            }
            Assert.Equal(user.Count, i);
        }
        log.WriteLine($"{users.Length} users, {users.Sum(u => u.Count)} events: largest raw-score difference {worst:E2}");
    }

    [Fact]
    public void A_missing_or_stale_state_is_rebuilt_from_the_window_into_the_cache_one_at_a_time_scoring_keeps()
    {
        var detector = Detector();
        foreach (var user in LongUsers())
        {
            var (surprises, _) = detector.ScoreSequence(user.Entries);
            // Several cut points, so both phases' blocks are cut at various offsets against the window. The input has
            // the engine's shape: a full window of context before the new event.
            foreach (int at in new[] { 2 * Capacity + 3, 2 * Capacity + 16, 3 * Capacity - 1, 3 * Capacity })
            {
                var replay = user.StartReplay(Capacity);
                while (replay.Position < at) replay.DetectorState = detector.ScoreBatch([replay.AdvanceAsInput(1)])[0].NewState;
                var kept = replay.DetectorState!;
                var input = replay.AdvanceAsInput(1);
                Assert.Equal(Capacity + 1, input.Window.Length);
                var expected = detector.ScoreBatch([input])[0].NewState!;
                foreach (var state in new ModelStateSlot?[] { null, kept with { EventsFolded = kept.EventsFolded - 1 }, kept with { Values = [1f, 2f] } })
                {
                    var rebuilt = detector.ScoreBatch([input with { State = state }])[0].NewState!;
                    Assert.Equal(expected.Values.Length, rebuilt.Values.Length);
                    Assert.True(Math.Abs(surprises[at] - rebuilt.Values[Capacity - 1]) <= Tolerance, $"{user.UserId} event {at}: surprise after a rebuild");
                    // The cache (after the ring) is exact: the window reaches back past both blocks' starts.
                    for (int v = Capacity; v < expected.Values.Length; v++)
                        Assert.True(Math.Abs(expected.Values[v] - rebuilt.Values[v]) <= Tolerance, $"{user.UserId} event {at}: cache value {v} {rebuilt.Values[v]} vs kept {expected.Values[v]}");
                }
            }
        }
    }

    [Fact]
    public void The_state_holds_the_ring_and_the_rows_of_both_blocks_so_far_and_its_size_is_reported()
    {
        var detector = Detector();
        var p = detector.HyperParameters;
        int rowFloats = p.Layers * 2 * 4 * p.FieldEmbedding;
        var user = LongUsers()[0];
        ModelStateSlot? state = null;
        long bytes = 0, largest = 0;
        int n = 0;
        foreach (var sample in user.Replay(Capacity))
        {
            state = detector.ScoreBatch([sample.ToScoringInput(state)])[0].NewState!;
            Assert.Equal(detector.StateLengthAt(state.EventsFolded), state.Values.Length);
            Assert.Equal(0, (state.Values.Length - Capacity - 2) % rowFloats);
            bytes += state.Values.Length * sizeof(float);
            largest = Math.Max(largest, state.Values.Length * sizeof(float));
            n++;
        }
        log.WriteLine($"transformer state per user (max-positions {p.MaxPositions}, {p.Layers} layers, width {4 * p.FieldEmbedding}): " +
            $"mean {bytes / n} bytes, largest {largest} bytes over {n} events");
        Assert.True(largest <= (Capacity + 2 + (p.MaxPositions - 1 + p.MaxPositions / 2) * rowFloats) * sizeof(float));
    }

    private TransformerNextEventDetector Detector() => (TransformerNextEventDetector)trained.Get("transformer");

    /// <summary>Users several windows long.</summary>
    private static UserSequence[] LongUsers() =>
        DatasetBuilder.Build(SyntheticTraffic.Shoppers(normalUsers: 4, anomalousUsers: 0, days: 30, seed: 5)).Users
            .OrderByDescending(u => u.Count).Take(2).ToArray();
}
