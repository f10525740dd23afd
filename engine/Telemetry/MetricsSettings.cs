using Akka.Configuration;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Engine.Telemetry;

/// <summary>
/// HOCON blocks <c>streamdetect.metrics.prometheus</c> (the scrape and health endpoint) and
/// <c>streamdetect.metrics.otlp</c> (<see cref="Otlp"/>).
/// </summary>
public sealed record MetricsSettings
{
    public bool Enabled { get; init; }

    /// <summary>
    /// Host name or address the listener binds and answers to: localhost, or the node's host name (a container
    /// scraped as engine-1:9464). Wildcards are refused: the Prometheus exporter (1.20.1-beta.1) cannot bind them.
    /// </summary>
    public string Host { get; init; } = "localhost";

    public int Port { get; init; } = 9464;

    /// <summary>Path of the Prometheus scrape endpoint; health is served under /health on the same port.</summary>
    public string Path { get; init; } = "/metrics";

    /// <summary>How long the endpoint keeps serving after the run ends (final totals for a scraper).</summary>
    public TimeSpan Linger { get; init; }

    /// <summary>OTLP export (off by default); on its own or beside the Prometheus endpoint.</summary>
    public OtlpSettings Otlp { get; init; } = new();

    /// <summary>Whether the run records metrics at all (an endpoint, an OTLP export, or both).</summary>
    public bool AnyExport => Enabled || Otlp.Enabled;

    public static MetricsSettings Create(Config config)
    {
        var r = new SettingsReader(config, "streamdetect.metrics.prometheus");
        string path = r.String("path");
        if (!path.StartsWith('/') || path.StartsWith("/health", StringComparison.Ordinal))
            throw new SettingsException(r.Key("path"), $"'{path}' must start with '/' and not with /health (the health endpoints' prefix)");
        string host = r.String("host");
        if (host is "*" or "+" or "0.0.0.0" or "::")
            throw new SettingsException(r.Key("host"), $"'{host}': the Prometheus exporter cannot listen on every interface; give the host name or address scrapers use (e.g. the container's host name)");
        return new MetricsSettings
        {
            Enabled = r.Bool("enabled"),
            Host = host,
            Port = r.Int("port", min: 1, max: 65535),
            Path = path,
            Linger = r.Duration("linger", allowZero: true),
            Otlp = OtlpSettings.Create(new SettingsReader(config, "streamdetect.metrics.otlp")),
        };
    }
}
