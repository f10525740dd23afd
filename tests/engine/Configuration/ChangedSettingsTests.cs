using StreamDetect.Engine.Configuration;

namespace StreamDetect.Engine.Tests.Configuration;

/// <summary>What an overlay changed in a block, leaf by leaf, against the shipped defaults.</summary>
public sealed class ChangedSettingsTests
{
    [Fact]
    public void The_shipped_defaults_change_nothing()
    {
        Assert.Empty(ChangedSettings.Under(EngineConfig.Reference, "streamdetect.generator"));
        Assert.Empty(ChangedSettings.Under(EngineConfig.Load(), "streamdetect.models.gru"));
    }

    [Fact]
    public void Changed_leaves_are_named_by_their_full_path_nested_blocks_and_lists_included()
    {
        var config = EngineConfig.Load(overrides: """
            streamdetect.generator.scenarios = [card_testing, scraper_bot]
            streamdetect.generator.drift { share = 0.5 }
            streamdetect.generator.users = 10000
            streamdetect.models.gru.decision = top-k
            """);

        Assert.Equal(["streamdetect.generator.scenarios", "streamdetect.generator.drift.share"],
            ChangedSettings.Under(config, "streamdetect.generator").Order(StringComparer.Ordinal).Reverse());
        Assert.Equal(["streamdetect.models.gru.decision"], ChangedSettings.Under(config, "streamdetect.models.gru"));
        Assert.Empty(ChangedSettings.Under(config, "streamdetect.models.lstm"));
    }
}
