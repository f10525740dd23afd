using Akka.Configuration;
using StreamDetect.Stages.Configuration;
using StreamDetect.Stages.Generator;

namespace StreamDetect.Stages.Tests.Generator;

public sealed class GeneratorSettingsTests
{
    [Fact]
    public void Shipped_hocon_defaults_equal_the_built_in_defaults()
    {
        Config config = ConfigurationFactory.ParseString(File.ReadAllText(ShippedConfigPath()));
        Assert.Equal(GeneratorSettings.Default, GeneratorSettings.Create(config));
    }

    [Fact]
    public void Settings_are_read_from_the_generator_block()
    {
        var settings = GeneratorSettings.Create(Overlay("users = 42, days = 3, anomaly-rate = 0.5, seed = -9, start = \"2025-01-02T03:04:05Z\""));
        Assert.Equal(42, settings.Users);
        Assert.Equal(3, settings.Days);
        Assert.Equal(0.5, settings.AnomalyRate);
        Assert.Equal(-9, settings.Seed);
        Assert.Equal(new DateTime(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc), settings.Start);
        Assert.Equal(DateTimeKind.Utc, settings.Start.Kind);
    }

    [Fact]
    public void The_scenario_list_is_read_in_its_order_and_defaults_to_every_scenario()
    {
        Assert.Equal(Scenarios.Anomalous, GeneratorSettings.Default.AnomalyScenarios);
        Assert.Contains(Scenarios.AbandonedTakeover, Scenarios.Anomalous);
        Assert.Contains(Scenarios.CheckoutLoop, Scenarios.Anomalous);
        Assert.Contains(Scenarios.EventBurst, Scenarios.Anomalous);
        var settings = GeneratorSettings.Create(Overlay("scenarios = [event_burst, checkout_loop]"));
        Assert.Equal([Scenarios.EventBurst, Scenarios.CheckoutLoop], settings.AnomalyScenarios);
    }

    [Theory]
    [InlineData("scenarios = []", "streamdetect.generator.scenarios")]
    [InlineData("scenarios = [checkout_loop, nope]", "streamdetect.generator.scenarios")]
    [InlineData("scenarios = [event_burst, event_burst]", "streamdetect.generator.scenarios")]
    [InlineData("users = 0", "streamdetect.generator.users")]
    [InlineData("days = -1", "streamdetect.generator.days")]
    [InlineData("anomaly-rate = 1.5", "streamdetect.generator.anomaly-rate")]
    [InlineData("start = yesterday", "streamdetect.generator.start")]
    [InlineData("coupon-ring-max-size = 2", "streamdetect.generator.coupon-ring-max-size")]
    [InlineData("drift.share = 1.5", "streamdetect.generator.drift.share")]
    [InlineData("drift.share = lots", "streamdetect.generator.drift.share")]
    [InlineData("drift { share = 0.5, day = 7 }", "streamdetect.generator.drift.day")]
    [InlineData("drift { share = 0.5, day = 0 }", "streamdetect.generator.drift.day")]
    [InlineData("drift.pace = 0", "streamdetect.generator.drift.pace")]
    [InlineData("poisoning.rate = -0.1", "streamdetect.generator.poisoning.rate")]
    [InlineData("poisoning { rate = 0.01, strike-day = 7 }", "streamdetect.generator.poisoning.strike-day")]
    [InlineData("poisoning.targets = [scraper_bot]", "streamdetect.generator.poisoning.targets")]
    [InlineData("poisoning.targets = []", "streamdetect.generator.poisoning.targets")]
    [InlineData("poisoning.sessions-per-day = 0", "streamdetect.generator.poisoning.sessions-per-day")]
    public void A_bad_value_names_its_key(string hocon, string key)
    {
        var e = Assert.Throws<SettingsException>(() => GeneratorSettings.Create(Overlay(hocon)));
        Assert.Equal(key, e.Key);
    }

    private static Config Overlay(string hocon) =>
        ConfigurationFactory.ParseString($"streamdetect.generator {{ {hocon} }}")
            .WithFallback(ConfigurationFactory.ParseString(File.ReadAllText(ShippedConfigPath())));

    private static string ShippedConfigPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "hocon", "streamdetect.conf");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("hocon/streamdetect.conf not found above " + AppContext.BaseDirectory);
    }
}
