using StreamDetect.Engine.Online;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Integration.Tests.Online;

/// <summary>
/// Plays decided requests to a trainer as the live path would: in order-key order across intervals (shuffled across
/// users inside an interval when a seed is given, as the decision stage's arrival order is not fixed), resolving each
/// boundary once every request before it was fed. <paramref name="decide"/> may replace a request's verdicts under the
/// plan in force at its key (the shadow's verdicts, the alerts of a promoted champion).
/// </summary>
internal static class TrainerDrive
{
    public static void Run(OnlineTrainer trainer, ScriptedSchedule schedule, IReadOnlyList<DecidedRequest> requests,
        Func<ModelPlan, DecidedRequest, (DecidedRequest, ShadowVerdicts?)>? decide = null, int? shuffleSeed = null, Action<long>? atBoundary = null)
    {
        decide ??= (_, r) => (r, null);
        long first = requests.Min(r => r.Request.OrderKeys[0]);
        schedule.Starts(first);
        var byInterval = requests.GroupBy(r => Math.DivRem(r.Request.OrderKeys[0] - Floor(first, schedule.BoundaryMs), schedule.BoundaryMs).Quotient).OrderBy(g => g.Key);
        var random = shuffleSeed is int seed ? new Random(seed) : null;
        foreach (var interval in byInterval)
        {
            var batch = interval.ToArray();
            random?.Shuffle(batch);
            schedule.Reached(batch.Max(r => r.Request.OrderKeys[0]));
            ResolvePending(trainer, schedule, atBoundary);
            foreach (var request in batch)
            {
                var (decided, shadow) = decide(schedule.PlanAt(request.Request.OrderKeys[0]), request);
                trainer.Decided(decided, shadow);
            }
        }
        schedule.Reached(requests.Max(r => r.Request.OrderKeys[0]) + schedule.BoundaryMs);
        ResolvePending(trainer, schedule, atBoundary);
    }

    private static void ResolvePending(OnlineTrainer trainer, ScriptedSchedule schedule, Action<long>? atBoundary)
    {
        while (schedule.PendingBoundary is long boundary)
        {
            atBoundary?.Invoke(boundary);
            Assert.True(trainer.TryResolve(), $"boundary {boundary} was not resolved");
        }
    }

    private static long Floor(long key, long grid) => Math.DivRem(key, grid, out long rest) * grid - (rest < 0 ? grid : 0);
}
