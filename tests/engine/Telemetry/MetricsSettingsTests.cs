using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Telemetry;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Engine.Tests.Telemetry;

public sealed class MetricsSettingsTests
{
    [Fact]
    public void The_shipped_defaults_are_off_on_localhost_9464_metrics_without_linger()
    {
        var settings = MetricsSettings.Create(EngineConfig.Load(null, ""));
        Assert.Equal(new MetricsSettings { Enabled = false, Host = "localhost", Port = 9464, Path = "/metrics", Linger = TimeSpan.Zero }, settings);
    }

    [Theory]
    [InlineData("*")]
    [InlineData("0.0.0.0")]
    public void A_wildcard_host_is_refused_naming_the_key(string host)
    {
        var error = Assert.Throws<SettingsException>(() => MetricsSettings.Create(EngineConfig.Load(null, $"streamdetect.metrics.prometheus.host = \"{host}\"")));
        Assert.Equal("streamdetect.metrics.prometheus.host", error.Key);
    }

    [Theory]
    [InlineData("metrics")]
    [InlineData("/health/metrics")]
    public void A_path_outside_health_starting_with_a_slash_is_required(string path)
    {
        var error = Assert.Throws<SettingsException>(() => MetricsSettings.Create(EngineConfig.Load(null, $"streamdetect.metrics.prometheus.path = \"{path}\"")));
        Assert.Equal("streamdetect.metrics.prometheus.path", error.Key);
    }
}
