using Akka.Configuration;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Engine.Telemetry;

/// <summary>HOCON block <c>streamdetect.metrics.prometheus</c>: the scrape and health endpoint.</summary>
public sealed record MetricsSettings
{
    public bool Enabled { get; init; }

    /// <summary>Host name the listener answers on: localhost, or * for every interface (a container).</summary>
    public string Host { get; init; } = "localhost";

    public int Port { get; init; } = 9464;

    /// <summary>Path of the Prometheus scrape endpoint; health is served under /health on the same port.</summary>
    public string Path { get; init; } = "/metrics";

    /// <summary>How long the endpoint keeps serving after the run ends (final totals for a scraper).</summary>
    public TimeSpan Linger { get; init; }

    public static MetricsSettings Create(Config config)
    {
        var r = new SettingsReader(config, "streamdetect.metrics.prometheus");
        string path = r.String("path");
        if (!path.StartsWith('/') || path.StartsWith("/health", StringComparison.Ordinal))
            throw new SettingsException(r.Key("path"), $"'{path}' must start with '/' and not with /health (the health endpoints' prefix)");
        return new MetricsSettings
        {
            Enabled = r.Bool("enabled"),
            Host = r.String("host"),
            Port = r.Int("port", min: 1, max: 65535),
            Path = path,
            Linger = r.Duration("linger", allowZero: true),
        };
    }
}
