using Akka.Configuration;
using StreamDetect.Models.Online;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Engine.Configuration;

/// <summary>
/// The online fine-tuning rules from HOCON <c>streamdetect.online-learning</c> (every key commented in
/// hocon/streamdetect.conf); a bad value is refused with a <see cref="SettingsException"/> naming its key, a misspelled
/// key by <see cref="KnownSettings"/>.
/// </summary>
public static class OnlineLearningOptionsReader
{
    private const string Block = "streamdetect.online-learning";

    /// <summary>Value of <c>enabled</c> that turns online learning on for the built-in generator's traffic only (the
    /// default run) and off for a file or Kafka; `run` resolves it from its source
    /// (<see cref="Online.OnlineLearningSettings.ResolveEnabled"/>), elsewhere it reads as off.</summary>
    public const string Auto = "auto";

    /// <summary>The value of <c>enabled</c>: "on", "off" or <see cref="Auto"/> (true/yes and false/no read as on and off).</summary>
    /// <exception cref="SettingsException">Any other value, naming the key.</exception>
    public static string EnabledSetting(Config config)
    {
        var r = new SettingsReader(config, Block);
        string raw = r.String("enabled");
        return raw.ToLowerInvariant() switch
        {
            "true" or "on" or "yes" => "on",
            "false" or "off" or "no" => "off",
            Auto => Auto,
            _ => throw new SettingsException(r.Key("enabled"), $"'{raw}' is not on, off or auto"),
        };
    }

    public static OnlineLearningOptions Read(Config config)
    {
        var r = new SettingsReader(config, Block);
        var options = new OnlineLearningOptions
        {
            Enabled = EnabledSetting(config) == "on",
            Guards = r.Bool("guards"),
            ScoreQuantile = Open(r, "score-quantile"),
            HoldBack = r.Duration("hold-back", allowZero: true),
            BufferSize = r.Int("buffer-size", 1),
            BufferMaxAge = r.Duration("buffer-max-age", allowZero: true),
            AlertQuarantine = r.Duration("alert-quarantine", allowZero: true),
            MaxPerUser = r.Int("max-per-user", 1),
            MaxPerDevice = r.Int("max-per-device", 1),
            MaxPerIp = r.Int("max-per-ip", 1),
            MaxFalseAlarmLabels = r.Int("max-false-alarm-labels", 0),
            AnchorUsers = r.Int("anchor-users", 1),
            AnchorShare = r.Double("anchor-share", 0, 0.99),
            HeldBackShare = r.Double("held-back-share", 0.01, 0.99),
            LearningRate = r.Double("learning-rate", 1e-9, OnlineLearningOptions.MaxLearningRate),
            StepsPerVersion = r.Int("steps-per-version", 1, OnlineLearningOptions.MaxStepsPerVersion),
            BatchSize = r.Int("batch-size", 2, 1 << 16),
            GradientClip = r.Double("gradient-clip", 1e-9),
            DistancePenalty = r.Double("distance-penalty", 0),
            MaxDistance = r.Double("max-distance", 1e-9, 1),
            RecentLossTolerance = r.Double("recent-loss-tolerance", 0),
            AnchorLossTolerance = r.Double("anchor-loss-tolerance", 0),
            CanaryRecallDrop = r.Double("canary-recall-drop", 0, 1),
            CanarySignificance = r.Double("canary-significance", 1e-12, 1),
            CanaryScenarioMaxLossShare = r.Double("canary-scenario-max-loss-share", 0, 1),
            CanaryScenarioSignificance = r.Double("canary-scenario-significance", 0, 1),
            AlertBudget = Open(r, "alert-budget"),
            NewTypeMinCount = r.Int("new-type-min-count", 1),
            NewTypeMinUsers = r.Int("new-type-min-users", 1),
            NewTypeRule = r.Bool("new-type-rule"),
            NewTypeRuleMinUsers = r.Int("new-type-rule-min-users", 1),
            NewTypeRuleMinUserShare = r.Double("new-type-rule-min-user-share", 0, 1),
            NewTypeRuleMinDevices = r.Int("new-type-rule-min-devices", 0),
            NewTypeRuleMinIps = r.Int("new-type-rule-min-ips", 0),
            CalibrateWithAnchors = r.Bool("calibrate-with-anchors"),
            RefitFeatureMembers = r.Bool("refit-feature-members"),
            RefitAutoencoderSteps = r.Int("refit-autoencoder-steps", 0, OnlineLearningOptions.MaxRefitAutoencoderSteps),
            Seed = r.Int("seed"),
        };
        options.Validate(Block);
        return options;
    }

    /// <summary>How the live path's trainer drives the model plan (cadence, shadow window, band, rollback, sampling).</summary>
    public static Online.OnlineTrainerSettings ReadTrainer(Config config)
    {
        var r = new SettingsReader(config, Block);
        var settings = new Online.OnlineTrainerSettings
        {
            Cadence = r.Duration("cadence"),
            ShadowWindow = r.Duration("shadow-window"),
            BandLow = r.Double("band-low", 0),
            BandHigh = r.Double("band-high", 0),
            ChampionOutOfBandRatio = r.Double("champion-out-of-band-ratio", 0, 1),
            RollbackWindow = r.Duration("rollback-window"),
            MinWindowUsers = r.Int("min-window-users", 1),
            SampleShare = r.Double("sample-share", 0, 1),
            MinSampleUsers = r.Int("min-sample-users", 4),
            TorchThreads = r.Int("torch-threads", 1, 1024),
            MaxRounds = r.Int("max-rounds", 0),
        };
        if (settings.Cadence.Ticks % TimeSpan.TicksPerSecond != 0)
            throw new SettingsException(r.Key("cadence"), $"{settings.Cadence} must be whole seconds (the decision ledger counts order keys per second)");
        if (settings.BandHigh <= settings.BandLow)
            throw new SettingsException(r.Key("band-high"), $"{settings.BandHigh} must be above band-low ({settings.BandLow})");
        if (settings.SampleShare <= 0) throw new SettingsException(r.Key("sample-share"), $"{settings.SampleShare} must be above 0");
        return settings;
    }

    /// <summary>A share strictly between 0 and 1.</summary>
    private static double Open(SettingsReader r, string key)
    {
        double value = r.Double(key, 0, 1);
        if (value <= 0 || value >= 1) throw new SettingsException(r.Key(key), $"{value} must be strictly between 0 and 1");
        return value;
    }
}
