using StreamDetect.Models.Calibration;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;
using StreamDetect.Stages.Scoring;
using TorchSharp;

namespace StreamDetect.Stages.Tests.Scoring;

public sealed class ScorerTests
{
    /// <summary>A stateful detector that counts events: its state is the number of events folded, its score that count.</summary>
    private sealed class CountingDetector : IAnomalyDetector
    {
        public List<int> CallSizes { get; } = [];
        public string Name => "counting";
        public string Version => "1";
        public string StateKey => "counting@1";
        public bool IsStateful => true;
        public torch.Device Device => torch.CPU;
        public ScoreCalibration Calibration => ScoreCalibration.Identity;
        public AlertThreshold Threshold => AlertThreshold.None;

        public ScoringOutput[] ScoreBatch(IReadOnlyList<ScoringInput> batch)
        {
            CallSizes.Add(batch.Count);
            return batch.Select(input =>
            {
                // A fitting state folds everything before the new events; without one, count the window.
                long before = input.State is { } s && s.EventsFolded == input.EventCount - input.NewEvents
                    ? (long)s.Values[0]
                    : input.Window.Length - input.NewEvents;
                long folded = before + input.NewEvents;
                return new ScoringOutput(folded, new ModelStateSlot(StateKey, input.EventCount, [folded]), Explanation.ForEvents(Name, folded, []));
            }).ToArray();
        }

        public void Save(string path) => throw new InvalidOperationException("not saved in this test");

        public void Dispose() { }
    }

    private static ScoringRequest Request(string user, long eventCount, int newEvents, int windowLength, ModelStateSlot? state = null) =>
        new(user, 0, Enumerable.Range(0, windowLength).Select(i => new WindowEntry("view", i * 1000L, float.NaN, 0, 0)).ToArray(),
            newEvents, new float[FeatureSchema.Count], state, eventCount, 0);

    [Fact]
    public async Task A_users_second_request_in_a_batch_starts_from_the_state_its_first_request_produced()
    {
        var detector = new CountingDetector();
        using var scorer = new Scorer(detector, ScorerSettings.Default with { TorchThreads = 1 });

        // u-1's window holds its last 32 events: without a fitting state the detector can count only those.
        var first = await scorer.ScoreAsync([Request("u-1", 38, 38, 32), Request("u-2", 1, 1, 1)]);
        Assert.Equal(38 - 38 + 32, first.Outputs[0].Score); // no state: the window is all it can see

        var batch = await scorer.ScoreAsync([
            Request("u-1", 39, 1, 32),
            Request("u-2", 2, 1, 2),
            Request("u-1", 40, 1, 32), // the entity's state is behind: the state of the request above must be used
        ]);

        Assert.Equal([2, 2, 1], detector.CallSizes); // the repeated user went to a second round
        Assert.Equal(33, batch.Outputs[0].Score);
        Assert.Equal(2, batch.Outputs[1].Score);
        Assert.Equal(34, batch.Outputs[2].Score); // scored from a window alone it would be 32
        Assert.Equal(40, batch.Outputs[2].NewState!.EventsFolded);
    }
}
