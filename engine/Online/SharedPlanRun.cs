using StreamDetect.Engine.Plans;
using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Persistence;
using StreamDetect.Engine.Pipeline;
using StreamDetect.Engine.Registry;
using StreamDetect.Models.Dataset;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Engine.Online;

/// <summary>
/// The online path of a run with cluster-wide plans (<c>streamdetect.online-learning.shared-plans.enabled</c>): the
/// scoring loop's <see cref="ModelSchedule"/> on the cadence's grid, resolved by a <see cref="SharedPlanResolver"/> from
/// the store's plans. With online learning on, the node that decides (the singleton) makes and starts the
/// <see cref="OnlineTrainer"/> when it becomes the decider; it observes that node's decided requests from then on.
/// </summary>
public static class SharedPlanRun
{
    public static OnlineScoring Start(OnlineScoringStart start, OnlineLearningSettings online, StoreSettings store, TextWriter log, BehaviorDataset? trainedOn,
        IScoringObserver? observer, Action<OnlineTrainer>? started)
    {
        if (store.Kind == "memory")
            throw new UserInputException(OnlineLearningSettings.SharedPlansNeedAStore);
        var system = start.System ?? throw new InvalidOperationException("cluster-wide plans need the engine's actor system (OnlineScoringStart.System)");
        var (settings, shared) = (online.Trainer, online.SharedPlans);
        var plans = ModelPlanStore.Open(store);
        var registry = ModelRegistry.Open(store);
        Func<IModelSchedule, IPlanTrainer?>? trainer = online.Options.Enabled
            ? schedule =>
            {
                var made = OnlineLearningSetup.Create(online, start.Config, start.Champion, start.TrainedOn ?? trainedOn, store, schedule, key => start.Ledger.AllSettledThrough(key - 1), log,
                    start.TrainedOn is null ? null : start.Truth);
                if (made is null) return null;
                started?.Invoke(made);
                return new OnlineTrainerDecider(made);
            }
            : null;
        var scheduleOfRun = new ModelSchedule(new ModelPlan(start.Champion, null, "the run's model"), (long)settings.Cadence.TotalMilliseconds);
        SharedPlanResolver resolver;
        try
        {
            resolver = new SharedPlanResolver(scheduleOfRun, plans, registry, system, shared, start.Champion.Device.ToString(), log, trainer);
        }
        catch
        {
            scheduleOfRun.Dispose();
            throw;
        }
        log.WriteLine($"shared plans: on (cadence {settings.Cadence}; plans in {plans.Store}; decider: the oldest node{(resolver.DeciderRole is { } role ? $" with role {role}" : "")}; " +
                      $"online learning {(trainer is null ? "off: the registry's champion is followed" : "on, on the deciding node")})");
        return new OnlineScoring(scheduleOfRun, observer is null ? resolver : new ScoringObservers(resolver, observer), resolver) { Feedback = resolver.Feedback };
    }
}
