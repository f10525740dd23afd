using StreamDetect.Models.Calibration;
using StreamDetect.Models.Detection;
using StreamDetect.Stages.Scoring;
using TorchSharp;

namespace StreamDetect.Stages.Tests.Scoring;

public sealed class ModelScheduleTests
{
    /// <summary>A detector that only has a name (the schedule never scores): it records whether it was disposed.</summary>
    private sealed class NamedDetector(string version) : IAnomalyDetector
    {
        public bool Disposed { get; private set; }
        public string Name => "named";
        public string Version => version;
        public string StateKey => $"named@{version}";
        public bool IsStateful => false;
        public torch.Device Device => torch.CPU;
        public ScoreCalibration Calibration => ScoreCalibration.Identity;
        public AlertThreshold Threshold => AlertThreshold.None;
        public ScoringOutput[] ScoreBatch(IReadOnlyList<ScoringInput> batch) => throw new InvalidOperationException("not scored in this test");
        public void Save(string path) => throw new InvalidOperationException("not saved in this test");
        public void Dispose() => Disposed = true;
    }

    private static readonly NamedDetector V1 = new("1");

    [Fact]
    public void A_fixed_schedule_never_holds_or_cuts_and_has_nothing_to_resolve()
    {
        var plan = new ModelPlan(V1, null, "start");
        var schedule = new ModelSchedule(plan, 0);
        Assert.True(schedule.IsFixed);
        Assert.Equal(3, schedule.Scorable([5L, 1_000_000_000L, 9_000_000_000L]));
        schedule.Observe(long.MaxValue);
        Assert.Null(schedule.PendingBoundary);
        Assert.Same(plan, schedule.PlanAt(123));
        Assert.Throws<InvalidOperationException>(() => schedule.Resolve(100, plan));
    }

    [Fact]
    public void A_failed_schedule_wakes_its_held_requests_and_fails_every_request_at_the_unresolved_boundary_with_its_first_failure()
    {
        var schedule = new ModelSchedule(new ModelPlan(V1, null, "start"), 100);
        schedule.Observe(250);
        Assert.Equal(0, schedule.Scorable([300L, 310L])); // held at 300
        int woken = 0;
        schedule.Resolved += () => woken++;
        var down = new InvalidOperationException("the plan store is down");

        schedule.Fail(down);
        schedule.Fail(new InvalidOperationException("a later failure"));

        Assert.Equal(1, woken); // the held requests are routed again, once
        Assert.Same(down, schedule.Failure);
        Assert.Same(down, Assert.Throws<InvalidOperationException>(() => schedule.Scorable([300L, 310L])));
        Assert.Same(down, Assert.Throws<InvalidOperationException>(() => schedule.Scorable([420L])));
        // Events before the boundary are still scored under the plan in force (cut at the boundary).
        Assert.Equal(1, schedule.Scorable([290L, 300L]));
        Assert.Equal(300, schedule.NextBoundary);
    }

    [Fact]
    public void Events_at_or_past_an_unresolved_boundary_are_held_and_requests_are_cut_there_and_where_the_plan_changes()
    {
        var v2 = new NamedDetector("2");
        var start = new ModelPlan(V1, null, "start");
        var schedule = new ModelSchedule(start, 100);
        Assert.Null(schedule.PendingBoundary);

        // The first key starts the grid at 200: the initial plan holds below 300.
        schedule.Observe(250);
        Assert.Equal(300, schedule.NextBoundary);
        Assert.Null(schedule.PendingBoundary);
        Assert.Equal(2, schedule.Scorable([250L, 299L]));
        Assert.Equal(1, schedule.Scorable([290L, 300L, 310L])); // cut at the unresolved boundary
        Assert.Equal(300, schedule.PendingBoundary);
        Assert.Equal(0, schedule.Scorable([300L, 310L])); // held
        Assert.Throws<ArgumentException>(() => schedule.Resolve(400, start)); // not the next one

        int resolved = 0;
        schedule.Resolved += () => resolved++;
        var promoted = new ModelPlan(v2, null, "promote");
        schedule.Resolve(300, promoted);
        Assert.Equal(1, resolved);
        Assert.Null(schedule.PendingBoundary); // nothing admitted reached 400 yet
        Assert.Equal(1, schedule.Scorable([290L, 300L, 310L])); // cut where the champion changes
        Assert.Equal(2, schedule.Scorable([300L, 310L]));
        Assert.Same(start, schedule.PlanAt(299));
        Assert.Same(promoted, schedule.PlanAt(300));
        Assert.Same(v2, schedule.DetectorFor("named@2"));

        // An unchanged plan (same detectors, a new record) cuts nothing.
        schedule.Observe(450);
        Assert.Equal(400, schedule.PendingBoundary);
        schedule.Resolve(400, promoted with { Reason = "unchanged" });
        Assert.Equal(2, schedule.Scorable([350L, 450L]));
        Assert.Equal([true, false], schedule.History.Select(c => c.Changed));
        Assert.Equal("named@2", schedule.History[0].Champion);
    }

    [Fact]
    public void Every_boundary_a_jump_in_event_time_crosses_is_pending_in_turn()
    {
        var schedule = new ModelSchedule(new ModelPlan(V1, null, "start"), 100, origin: 0);
        schedule.Observe(350);
        var plan = schedule.InitialPlan with { Reason = "unchanged" };
        var pending = new List<long>();
        while (schedule.PendingBoundary is long b)
        {
            pending.Add(b);
            schedule.Resolve(b, plan);
        }
        Assert.Equal([100L, 200L, 300L], pending);
        Assert.Equal(1, schedule.Scorable([350L]));
    }

    [Fact]
    public void Retired_segments_dispose_the_detectors_no_kept_plan_uses_never_the_initial_ones_and_the_rest_on_dispose()
    {
        var v2 = new NamedDetector("2");
        var shadow = new NamedDetector("3");
        var initial = new NamedDetector("1");
        var schedule = new ModelSchedule(new ModelPlan(initial, null, "start"), 100, origin: 0);
        schedule.Observe(250);
        schedule.Resolve(100, new ModelPlan(initial, shadow, "shadow"));
        schedule.Resolve(200, new ModelPlan(v2, null, "promote"));

        Assert.Equal(0, schedule.Retire(150)); // the shadow's segment [100, 200) may still be used
        Assert.False(shadow.Disposed);
        Assert.Equal(1, schedule.Retire(200));
        Assert.True(shadow.Disposed);
        Assert.False(initial.Disposed);
        Assert.Same(v2, schedule.PlanAt(50).Champion); // below every kept segment: the oldest kept plan
        schedule.Observe(350);
        Assert.Throws<ArgumentException>(() => schedule.Resolve(300, new ModelPlan(v2, shadow, "a disposed instance again")));

        schedule.Dispose();
        Assert.True(v2.Disposed);
        Assert.False(initial.Disposed);
    }
}
