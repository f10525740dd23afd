using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Persistence;
using StreamDetect.Engine.Pipeline;
using StreamDetect.Models.Dataset;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Engine.Online;

/// <summary>
/// `run --online-learning on` and `eval --online`: the <see cref="RunJob.Online"/> hook that gives the run's scoring loop a
/// <see cref="ModelSchedule"/> on the cadence's grid and the <see cref="OnlineTrainer"/> that resolves it (the trainer
/// observes every decided request; it is stopped when the stream has ended, before the schedule is disposed). A boundary
/// is resolved once every event before it is settled (the decision stage calls the observer after it counts an event
/// decided and before it settles it).
/// </summary>
public static class OnlineRun
{
    /// <param name="store">The run's store (the registry's; none for a memory store).</param>
    /// <param name="online">The run's online-learning settings, read (and checked) as it started, before its model was trained.</param>
    /// <param name="trainedOn">Anchors and canaries when the run loads its model (the run's own training data otherwise).</param>
    /// <param name="observer">Another observer of every decided request (e.g. `eval --online`'s per-day tally), or null.</param>
    /// <param name="started">Called with the trainer once it runs (for its report).</param>
    public static Func<OnlineScoringStart, OnlineScoring> Hook(StoreSettings store, OnlineLearningSettings online, TextWriter log, BehaviorDataset? trainedOn = null,
        IScoringObserver? observer = null, Action<OnlineTrainer>? started = null) => start =>
    {
        if (online.SharedPlans.Enabled) return SharedPlanRun.Start(start, online, store, log, trainedOn, observer, started);
        var schedule = new ModelSchedule(new ModelPlan(start.Champion, null, "the run's model"), (long)online.Trainer.Cadence.TotalMilliseconds);
        OnlineTrainer? trainer;
        try
        {
            trainer = OnlineLearningSetup.Create(online, start.Config, start.Champion, start.TrainedOn ?? trainedOn, store, schedule, key => start.Ledger.AllSettledThrough(key - 1), log,
                    start.TrainedOn is null ? null : start.Truth);
        }
        catch
        {
            schedule.Dispose();
            throw;
        }
        if (trainer is null)
        {
            schedule.Dispose();
            return new OnlineScoring(null, observer);
        }
        started?.Invoke(trainer);
        trainer.Start();
        return new OnlineScoring(schedule, observer is null ? trainer : new ScoringObservers(trainer, observer), trainer) { Feedback = trainer.Feedback };
    };
}
