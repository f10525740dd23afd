using Akka.Configuration;
using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Persistence;
using StreamDetect.Engine.Plans;
using StreamDetect.Models.Online;

namespace StreamDetect.Engine.Online;

/// <summary>
/// Every setting of HOCON <c>streamdetect.online-learning</c> (commented in hocon/streamdetect.conf): the fine-tuning
/// rules (<see cref="OnlineLearningOptions"/>), how the trainer drives the model plan (<see cref="OnlineTrainerSettings"/>)
/// and the cluster-wide plans (<see cref="SharedPlanSettings"/>). `run` and `eval --online` read them with the other
/// settings, before any training or store work, so a bad value is refused at once in one line naming its key (`run`
/// hands these to the online path).
/// </summary>
public sealed record OnlineLearningSettings(OnlineLearningOptions Options, OnlineTrainerSettings Trainer, SharedPlanSettings SharedPlans)
{
    /// <summary>Whether the run needs the online path: online learning on, or plans shared across the cluster (followed even when this run does not learn).</summary>
    public bool Active => Options.Enabled || SharedPlans.Enabled;

    /// <summary>How the canary set is completed when the training data holds too few attack users (<see cref="CanarySet"/>).</summary>
    public CanarySettings Canaries { get; init; } = new();

    /// <summary>
    /// `run`'s configuration with <c>streamdetect.online-learning.enabled = auto</c> (not the shipped default: off) settled by its
    /// source: on for the built-in generator's traffic (the default run: its model is trained in the run, so anchors and
    /// generated canaries are at hand, and the same configuration gives the same traffic), off for a file or Kafka (a
    /// user's own data: a loaded model has no anchors, other event types get no canaries so every candidate would fail
    /// the canary gate, and a replay runs some 7x slower with the trainer; `--online-learning on` or <c>enabled = on</c>
    /// turns it on there). on and off are kept as they are.
    /// </summary>
    public static Config ResolveEnabled(Config config, bool generatorSource) =>
        OnlineLearningOptionsReader.EnabledSetting(config) == OnlineLearningOptionsReader.Auto
            ? ConfigurationFactory.ParseString($"streamdetect.online-learning.enabled = {(generatorSource ? "on" : "off")}").WithFallback(config)
            : config;

    /// <summary>Reads and checks every online-learning setting of <paramref name="config"/> (the run's, with its store).</summary>
    /// <exception cref="Stages.Configuration.SettingsException">A bad value, naming its key.</exception>
    /// <exception cref="UserInputException">Cluster-wide plans on a memory store.</exception>
    public static OnlineLearningSettings Read(Config config)
    {
        var settings = ReadKeys(config);
        if (settings.SharedPlans.Enabled && StoreSettings.Create(config).Kind == "memory")
            throw new UserInputException(SharedPlansNeedAStore);
        return settings;
    }

    /// <summary>
    /// The settings of `eval --online` (its replay configuration, <see cref="OnlineEvaluation.ReplayConfig"/>), every one
    /// checked; cluster-wide plans do not apply to a replay (one node, a memory store).
    /// </summary>
    public static OnlineLearningSettings ReadForReplay(Config replayConfig)
    {
        var settings = ReadKeys(replayConfig);
        if (settings.SharedPlans.Enabled)
            throw new UserInputException("streamdetect.online-learning.shared-plans.enabled = on does not apply to eval --online (a replay on one node and a memory store); turn it off for the replay");
        return settings;
    }

    private static OnlineLearningSettings ReadKeys(Config config) =>
        new(OnlineLearningOptionsReader.Read(config), OnlineLearningOptionsReader.ReadTrainer(config), SharedPlanSettings.Create(config))
        {
            Canaries = CanarySettings.Read(config),
        };

    /// <summary>Why cluster-wide plans are refused on a memory store.</summary>
    public const string SharedPlansNeedAStore =
        "streamdetect.online-learning.shared-plans.enabled = on needs a store with a model registry every node sees (streamdetect.store.kind = sqlite or postgres; it is memory)";
}
