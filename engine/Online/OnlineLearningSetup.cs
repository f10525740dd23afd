using Akka.Configuration;
using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Persistence;
using StreamDetect.Engine.Registry;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Online;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Engine.Online;

/// <summary>
/// Builds the live path's <see cref="OnlineTrainer"/> from the run's configuration (<c>streamdetect.online-learning</c>):
/// anchors and canaries from the data the champion was trained on (its normal users, and its labelled attack users,
/// completed with the built-in generator's scenario episodes when they are too few: <see cref="CanarySet"/>), the
/// registry of the run's store (none for a memory store), and the run's session rule, window and alert cooldown.
/// </summary>
public static class OnlineLearningSetup
{
    /// <param name="online">The run's online-learning settings, read as it started (<see cref="OnlineLearningSettings.Read"/>).</param>
    /// <param name="allObservedBefore">Whether every request with keys before a boundary has reached the trainer (see <see cref="OnlineTrainer"/>).</param>
    /// <param name="trainedOn">The users the champion was trained on (or, for a loaded model, traffic like it): anchors and canaries.</param>
    /// <param name="truth">userId -> scenario for <paramref name="trainedOn"/>'s users when known (the canaries' scenarios); null: its attack users are one group.</param>
    /// <returns>The trainer (not started), or null when it cannot learn here (the reason is logged).</returns>
    public static OnlineTrainer? Create(OnlineLearningSettings online, Config config, IAnomalyDetector champion, BehaviorDataset? trainedOn, StoreSettings store,
        IModelSchedule schedule, Func<long, bool> allObservedBefore, TextWriter log, IReadOnlyDictionary<string, string>? truth = null)
    {
        var (options, settings) = (online.Options, online.Trainer);
        if (trainedOn is null || trainedOn.Users.Count == 0)
        {
            log.WriteLine("online learning: off for this run: the model was loaded and no data it was trained on is at hand for the anchors (train it in the run, or use `eval --online`)");
            return null;
        }
        var normal = trainedOn.WithoutLabelledUsers();
        if (normal.Users.Count == 0)
        {
            log.WriteLine("online learning: off for this run: the training data has no normal users to anchor on");
            return null;
        }
        var anchors = AnchorReservoir.Sample(normal, options.AnchorUsers, options.Seed);
        var normalIds = normal.Users.Select(u => u.UserId).ToHashSet(StringComparer.Ordinal);
        var sessions = SessionSettingsReader.Read(config);
        var canarySet = CanarySet.Build(trainedOn, normalIds, champion, config, online.Canaries, options.Seed, sessions, truth);
        log.WriteLine((canarySet.Users.Users.Count == 0 ? "online learning: warning: " : "online learning: ") + canarySet.Summary);
        var canaries = canarySet.Users;
        var training = TrainingOptionsReader.Read(config) with { Device = champion.Device.ToString() };
        var registry = store.Kind == "memory" ? null : ModelRegistry.Open(store);
        int window = Entities.UserPartitionSettings.Create(config).WindowSize;
        var trainer = new OnlineTrainer(schedule, allObservedBefore, champion, anchors, canaries, options, settings, training,
            sessions, window, AlertSettings.Create(config).Cooldown, registry, log, canarySet.Scenarios);
        log.WriteLine($"online learning: on (cadence {settings.Cadence}, shadow {settings.ShadowWindow}, band {settings.BandLow:g}..{settings.BandHigh:g} x alert budget {options.AlertBudget:P2}, " +
                      $"rollback watch {settings.RollbackWindow}; {anchors.Count} anchor users, {canaries.Users.Count} canary users; guards {(options.Guards ? "on" : "OFF")})");
        return trainer;
    }
}
