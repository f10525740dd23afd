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

    [Fact]
    public void OTLP_export_is_off_by_default_over_grpc_to_localhost_4317_every_15_s()
    {
        var otlp = MetricsSettings.Create(EngineConfig.Load(null, "")).Otlp;
        Assert.Equal(new OtlpSettings { Enabled = false, Endpoint = new Uri("http://localhost:4317"), Protocol = "grpc", Interval = TimeSpan.FromSeconds(15) }, otlp);
        Assert.False(MetricsSettings.Create(EngineConfig.Load(null, "")).AnyExport);
    }

    [Fact]
    public void OTLP_over_http_protobuf_sends_to_the_metrics_path_of_an_endpoint_given_without_one()
    {
        var settings = MetricsSettings.Create(EngineConfig.Load(null, """
            streamdetect.metrics.otlp { enabled = on, endpoint = "http://collector:4318", protocol = "http/protobuf", interval = 5s }
            """));
        Assert.True(settings.AnyExport);
        Assert.False(settings.Enabled);
        Assert.Equal(new Uri("http://collector:4318/v1/metrics"), settings.Otlp.ExportUri);
        Assert.Equal(TimeSpan.FromSeconds(5), settings.Otlp.Interval);
        var grpc = MetricsSettings.Create(EngineConfig.Load(null, "streamdetect.metrics.otlp.endpoint = \"http://collector:4317\""));
        Assert.Equal(new Uri("http://collector:4317"), grpc.Otlp.ExportUri);
    }

    [Theory]
    [InlineData("protocol = thrift", "streamdetect.metrics.otlp.protocol")]
    [InlineData("endpoint = \"collector:4317\"", "streamdetect.metrics.otlp.endpoint")]
    [InlineData("endpoint = \"ftp://collector\"", "streamdetect.metrics.otlp.endpoint")]
    [InlineData("interval = 0s", "streamdetect.metrics.otlp.interval")]
    public void A_bad_OTLP_setting_is_refused_naming_its_key(string setting, string key)
    {
        var error = Assert.Throws<SettingsException>(() => MetricsSettings.Create(EngineConfig.Load(null, $"streamdetect.metrics.otlp.{setting}")));
        Assert.Equal(key, error.Key);
    }
}
