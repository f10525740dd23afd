using StreamDetect.Models.Calibration;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Partitions;
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

        /// <summary>When set, a forward pass waits for it (after signalling <see cref="Entered"/>).</summary>
        public ManualResetEventSlim? Hold { get; init; }

        public ManualResetEventSlim Entered { get; } = new();

        public ScoringOutput[] ScoreBatch(IReadOnlyList<ScoringInput> batch)
        {
            Entered.Set();
            Hold?.Wait(TimeSpan.FromMinutes(1));
            CallSizes.Add(batch.Count);
            return batch.Select(input =>
            {
                // A state folds everything before the new events; without one, count the window.
                long before = input.State is { } s ? (long)s.Values[0] : input.Window.Length - input.NewEvents;
                long folded = before + input.NewEvents;
                return new ScoringOutput(folded, new ModelStateSlot(StateKey, input.EventCount, [folded]), Explanation.ForEvents(Name, folded, []));
            }).ToArray();
        }

        public void Save(string path) => throw new InvalidOperationException("not saved in this test");

        public void Dispose() { }
    }

    private static ScoringRequest Request(string user, long eventCount, int windowLength, ModelStateSlot? state = null) =>
        new(user, 0, Enumerable.Range(0, windowLength).Select(i => new WindowEntry("view", i * 1000L, float.NaN, 0, 0)).ToArray(),
            1, new float[FeatureSchema.Count], state, eventCount, 0, [eventCount * 1000], UserAlertState.None, RequestTicket.None);

    [Fact]
    public async Task Busy_time_counts_a_forward_pass_while_it_runs_and_equals_the_model_time_once_it_is_over()
    {
        using var hold = new ManualResetEventSlim();
        var detector = new CountingDetector { Hold = hold };
        using var scorer = new Scorer(detector, ScorerSettings.Default with { TorchThreads = 1 });
        Assert.Equal(TimeSpan.Zero, scorer.BusyTime(System.Diagnostics.Stopwatch.GetTimestamp()));

        var scoring = scorer.ScoreAsync([Request("u-1", 1, 1)]);
        Assert.True(detector.Entered.Wait(TimeSpan.FromSeconds(30)));
        // The pass is still running: it counts as far as it got, and keeps growing.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (scorer.BusyTime(System.Diagnostics.Stopwatch.GetTimestamp()) < TimeSpan.FromMilliseconds(50))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "a running pass does not count as busy");
            await Task.Yield();
        }
        Assert.False(scoring.IsCompleted);

        hold.Set();
        var batch = await scoring;
        Assert.Equal(batch.ScoringTime, scorer.BusyTime(System.Diagnostics.Stopwatch.GetTimestamp()));
        Assert.Equal(scorer.ScoringTime, batch.ScoringTime);
    }

    [Fact]
    public async Task A_batch_is_one_call_of_the_detector_with_each_users_state_from_its_partition_and_a_foreign_models_state_left_out()
    {
        var detector = new CountingDetector();
        using var scorer = new Scorer(detector, ScorerSettings.Default with { TorchThreads = 1 });

        var batch = await scorer.ScoreAsync([
            Request("u-1", 40, 32, new ModelStateSlot("counting@1", 39, [39])),
            Request("u-2", 40, 32, new ModelStateSlot("lstm@7", 39, [1000])), // another model's state: rebuilt from the window
        ]);

        Assert.Equal([2], detector.CallSizes);
        Assert.Equal(40, batch.Outputs[0].Score);
        Assert.Equal(32, batch.Outputs[1].Score);
        Assert.Equal("counting@1", batch.Model);
        Assert.Equal((1, 2, 2), (scorer.Batches, scorer.Requests, scorer.Events));
    }

    [Fact]
    public async Task A_batch_given_after_dispose_fails_its_task_as_disposed_instead_of_throwing_from_the_call()
    {
        var scorer = new Scorer(new CountingDetector(), ScorerSettings.Default with { TorchThreads = 1 });
        scorer.Dispose();

        // The stream stage (SelectAsync) gets a failed task, as for any failed batch: no exception thrown from its function.
        var scoring = scorer.ScoreAsync([Request("u-1", 1, 1)]);

        await Assert.ThrowsAsync<ObjectDisposedException>(() => scoring);
    }
}
