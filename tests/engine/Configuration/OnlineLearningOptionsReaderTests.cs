using Akka.Configuration;
using StreamDetect.Engine.Configuration;
using StreamDetect.Models.Online;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Engine.Tests.Configuration;

/// <summary><c>streamdetect.online-learning</c>: the shipped defaults, overlays, bad values and misspelled keys refused naming their key.</summary>
public sealed class OnlineLearningOptionsReaderTests
{
    private static Config With(string overlay) => ConfigurationFactory.ParseString(overlay).WithFallback(EngineConfig.Reference);

    [Fact]
    public void The_shipped_defaults_are_the_contract_defaults()
    {
        var read = OnlineLearningOptionsReader.Read(EngineConfig.Reference);
        Assert.Equal(new OnlineLearningOptions(), read);
        Assert.False(read.Enabled);
        Assert.True(read.Guards);
    }

    [Fact]
    public void An_overlay_sets_the_rules()
    {
        var read = OnlineLearningOptionsReader.Read(With("""
            streamdetect.online-learning {
              enabled = on, guards = off, score-quantile = 0.99, hold-back = 2h, buffer-size = 100, max-per-user = 3,
              max-per-device = 4, max-per-ip = 5, max-false-alarm-labels = 0, anchor-users = 10, anchor-share = 0.25,
              held-back-share = 0.5, learning-rate = 0.001, steps-per-version = 7, batch-size = 8, gradient-clip = 0.5,
              distance-penalty = 0, max-distance = 0.2, recent-loss-tolerance = 0.01, anchor-loss-tolerance = 0.1,
              canary-recall-drop = 0.05, alert-budget = 0.01, seed = 9, buffer-max-age = 0s, new-type-rule = off,
              new-type-rule-min-users = 50, new-type-rule-min-user-share = 0.05, new-type-rule-min-devices = 0,
              new-type-rule-min-ips = 30, calibrate-with-anchors = off, alert-quarantine = 1d,
              refit-feature-members = on, canary-scenario-max-loss-share = 1, canary-scenario-significance = 0,
              refit-autoencoder-steps = 250
            }
            """));
        Assert.Equal(new OnlineLearningOptions
        {
            Enabled = true, Guards = false, ScoreQuantile = 0.99, HoldBack = TimeSpan.FromHours(2), BufferSize = 100, MaxPerUser = 3,
            MaxPerDevice = 4, MaxPerIp = 5, MaxFalseAlarmLabels = 0, AnchorUsers = 10, AnchorShare = 0.25, HeldBackShare = 0.5,
            LearningRate = 0.001, StepsPerVersion = 7, BatchSize = 8, GradientClip = 0.5, DistancePenalty = 0, MaxDistance = 0.2,
            RecentLossTolerance = 0.01, AnchorLossTolerance = 0.1, CanaryRecallDrop = 0.05, AlertBudget = 0.01, Seed = 9,
            BufferMaxAge = TimeSpan.Zero, NewTypeRule = false, NewTypeRuleMinUsers = 50, NewTypeRuleMinUserShare = 0.05,
            NewTypeRuleMinDevices = 0, NewTypeRuleMinIps = 30, CalibrateWithAnchors = false, AlertQuarantine = TimeSpan.FromDays(1),
            RefitFeatureMembers = true, CanaryScenarioMaxLossShare = 1, CanaryScenarioSignificance = 0, RefitAutoencoderSteps = 250,
        }, read);
        Assert.Equal(2, read.ScoreCeiling, 9);
    }

    [Theory]
    [InlineData("streamdetect.online-learning.learning-rate = 0.5", "streamdetect.online-learning.learning-rate")]
    [InlineData("streamdetect.online-learning.score-quantile = 1", "streamdetect.online-learning.score-quantile")]
    [InlineData("streamdetect.online-learning.steps-per-version = 0", "streamdetect.online-learning.steps-per-version")]
    [InlineData("streamdetect.online-learning.max-distance = 0", "streamdetect.online-learning.max-distance")]
    [InlineData("streamdetect.online-learning.refit-autoencoder-steps = -1", "streamdetect.online-learning.refit-autoencoder-steps")]
    [InlineData("streamdetect.online-learning.hold-back = later", "streamdetect.online-learning.hold-back")]
    [InlineData("streamdetect.online-learning.guards = maybe", "streamdetect.online-learning.guards")]
    [InlineData("streamdetect.online-learning.max-per-ip = 0", "streamdetect.online-learning.max-per-ip")]
    [InlineData("streamdetect.online-learning.new-type-rule-min-users = 0", "streamdetect.online-learning.new-type-rule-min-users")]
    [InlineData("streamdetect.online-learning.new-type-rule-min-user-share = 2", "streamdetect.online-learning.new-type-rule-min-user-share")]
    [InlineData("streamdetect.online-learning.buffer-max-age = soon", "streamdetect.online-learning.buffer-max-age")]
    [InlineData("streamdetect.online-learning.alert-quarantine = forever", "streamdetect.online-learning.alert-quarantine")]
    [InlineData("streamdetect.online-learning.canary-scenario-significance = 1.5", "streamdetect.online-learning.canary-scenario-significance")]
    [InlineData("streamdetect.online-learning.canary-scenario-significance = often", "streamdetect.online-learning.canary-scenario-significance")]
    [InlineData("streamdetect.online-learning.canary-scenario-max-loss-share = -0.5", "streamdetect.online-learning.canary-scenario-max-loss-share")]
    public void A_bad_value_is_refused_in_one_line_naming_its_key(string overlay, string key)
    {
        var error = Assert.Throws<SettingsException>(() => OnlineLearningOptionsReader.Read(With(overlay)));
        Assert.Equal(key, error.Key);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void The_trainer_settings_ship_their_defaults_and_an_overlay_sets_them()
    {
        Assert.Equal(new Online.OnlineTrainerSettings(), OnlineLearningOptionsReader.ReadTrainer(EngineConfig.Reference));
        var read = OnlineLearningOptionsReader.ReadTrainer(With("""
            streamdetect.online-learning {
              cadence = 2h, shadow-window = 4h, band-low = 0.5, band-high = 3, rollback-window = 8h, min-window-users = 50,
              sample-share = 0.1, min-sample-users = 10, torch-threads = 2, max-rounds = 3, champion-out-of-band-ratio = 0.25
            }
            """));
        Assert.Equal(new Online.OnlineTrainerSettings
        {
            Cadence = TimeSpan.FromHours(2), ShadowWindow = TimeSpan.FromHours(4), BandLow = 0.5, BandHigh = 3, RollbackWindow = TimeSpan.FromHours(8),
            MinWindowUsers = 50, SampleShare = 0.1, MinSampleUsers = 10, TorchThreads = 2, MaxRounds = 3, ChampionOutOfBandRatio = 0.25,
        }, read);
    }

    [Theory]
    [InlineData("streamdetect.online-learning.cadence = 0s", "streamdetect.online-learning.cadence")]
    [InlineData("streamdetect.online-learning.cadence = 1500ms", "streamdetect.online-learning.cadence")]
    [InlineData("streamdetect.online-learning.band-high = 0", "streamdetect.online-learning.band-high")]
    [InlineData("streamdetect.online-learning.sample-share = 0", "streamdetect.online-learning.sample-share")]
    [InlineData("streamdetect.online-learning.min-sample-users = 3", "streamdetect.online-learning.min-sample-users")]
    [InlineData("streamdetect.online-learning.torch-threads = 0", "streamdetect.online-learning.torch-threads")]
    [InlineData("streamdetect.online-learning.champion-out-of-band-ratio = 1.5", "streamdetect.online-learning.champion-out-of-band-ratio")]
    public void A_bad_trainer_value_is_refused_in_one_line_naming_its_key(string overlay, string key)
    {
        var error = Assert.Throws<SettingsException>(() => OnlineLearningOptionsReader.ReadTrainer(With(overlay)));
        Assert.Equal(key, error.Key);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("streamdetect.online-learning.max-distance = 2", "streamdetect.online-learning.max-distance")]
    [InlineData("streamdetect.online-learning.champion-out-of-band-ratio = 7", "streamdetect.online-learning.champion-out-of-band-ratio")]
    [InlineData("streamdetect.online-learning.shared-plans.follower-timeout = banana", "streamdetect.online-learning.shared-plans.follower-timeout")]
    [InlineData("streamdetect.online-learning.shared-plans.poll = 0s", "streamdetect.online-learning.shared-plans.poll")]
    [InlineData("streamdetect.online-learning.min-canary-users = -1", "streamdetect.online-learning.min-canary-users")]
    [InlineData("streamdetect.online-learning.canary-max-unknown-share = 1.5", "streamdetect.online-learning.canary-max-unknown-share")]
    [InlineData("streamdetect.online-learning.canary-significance = 0", "streamdetect.online-learning.canary-significance")]
    [InlineData("streamdetect.online-learning.canary-scenario-significance = 2", "streamdetect.online-learning.canary-scenario-significance")]
    public void Every_online_learning_setting_is_read_together_and_a_bad_one_refused_naming_its_key(string overlay, string key)
    {
        var error = Assert.Throws<SettingsException>(() => Online.OnlineLearningSettings.Read(With(overlay)));
        Assert.Equal(key, error.Key);
        Assert.Throws<SettingsException>(() => Online.OnlineLearningSettings.ReadForReplay(Online.OnlineEvaluation.ReplayConfig(With(overlay), learn: true)));
    }

    [Fact]
    public void Shared_plans_are_refused_on_a_memory_store_and_in_a_replay_and_the_defaults_read()
    {
        var read = Online.OnlineLearningSettings.Read(EngineConfig.Reference);
        Assert.Equal(new OnlineLearningOptions(), read.Options);
        Assert.Equal(new Online.OnlineTrainerSettings(), read.Trainer);
        Assert.Equal(new Online.CanarySettings(), read.Canaries);
        Assert.False(read.Active);
        var shared = With("streamdetect.online-learning.shared-plans.enabled = on");
        Assert.True(Online.OnlineLearningSettings.Read(shared).Active);
        var memory = Assert.Throws<UserInputException>(() => Online.OnlineLearningSettings.Read(
            ConfigurationFactory.ParseString("streamdetect.store.kind = memory").WithFallback(shared)));
        Assert.Contains("shared-plans.enabled = on needs a store", memory.Message);
        var replay = Assert.Throws<UserInputException>(() => Online.OnlineLearningSettings.ReadForReplay(Online.OnlineEvaluation.ReplayConfig(shared, learn: true)));
        Assert.Contains("does not apply to eval --online", replay.Message);
    }

    [Fact]
    public void Enabled_auto_is_settled_by_run_on_for_the_generator_and_off_for_a_file_or_kafka_and_off_is_the_default()
    {
        Assert.Equal("off", OnlineLearningOptionsReader.EnabledSetting(EngineConfig.Reference));
        Assert.False(Online.OnlineLearningSettings.Read(Online.OnlineLearningSettings.ResolveEnabled(EngineConfig.Reference, generatorSource: true)).Options.Enabled);
        var auto = With("streamdetect.online-learning.enabled = auto");
        Assert.Equal(OnlineLearningOptionsReader.Auto, OnlineLearningOptionsReader.EnabledSetting(auto));
        // Where no source settles it (readers outside `run`), auto reads as off.
        Assert.False(OnlineLearningOptionsReader.Read(auto).Enabled);
        Assert.True(Online.OnlineLearningSettings.Read(Online.OnlineLearningSettings.ResolveEnabled(auto, generatorSource: true)).Options.Enabled);
        Assert.False(Online.OnlineLearningSettings.Read(Online.OnlineLearningSettings.ResolveEnabled(auto, generatorSource: false)).Options.Enabled);
        // An explicit value (an overlay, or `run --online-learning on|off`) is kept whatever the source.
        Assert.False(Online.OnlineLearningSettings.Read(Online.OnlineLearningSettings.ResolveEnabled(With("streamdetect.online-learning.enabled = off"), generatorSource: true)).Options.Enabled);
        Assert.True(Online.OnlineLearningSettings.Read(Online.OnlineLearningSettings.ResolveEnabled(With("streamdetect.online-learning.enabled = yes"), generatorSource: false)).Options.Enabled);
        var error = Assert.Throws<SettingsException>(() => OnlineLearningOptionsReader.Read(With("streamdetect.online-learning.enabled = sometimes")));
        Assert.Equal("streamdetect.online-learning.enabled", error.Key);
        Assert.Contains("is not on, off or auto", error.Message);
    }

    [Fact]
    public void A_misspelled_key_is_refused_naming_the_nearest_known_one()
    {
        var error = Assert.Throws<SettingsException>(() =>
            KnownSettings.Default.Check(ConfigurationFactory.ParseString("streamdetect.online-learning.max-per-usr = 3"), "overlay.conf"));
        Assert.Contains("max-per-usr", error.Message);
        Assert.Contains("max-per-user", error.Message);
        KnownSettings.Default.Check(ConfigurationFactory.ParseString("streamdetect.online-learning.max-per-user = 3"), "overlay.conf");
    }
}
