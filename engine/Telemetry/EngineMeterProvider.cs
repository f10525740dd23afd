using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;

namespace StreamDetect.Engine.Telemetry;

/// <summary>
/// The OpenTelemetry SDK's meter provider for a run: the meter <see cref="EngineMetrics.MeterName"/> and the .NET
/// runtime instrumentation, exported to the Prometheus scrape endpoint and/or an OTLP collector as
/// <see cref="MetricsSettings"/> says.
/// </summary>
public static class EngineMeterProvider
{
    /// <summary>Builds (and starts) the provider; the Prometheus listener binds its port here.</summary>
    public static MeterProvider Build(MetricsSettings settings)
    {
        var builder = Sdk.CreateMeterProviderBuilder()
            .AddMeter(EngineMetrics.MeterName)
            .AddRuntimeInstrumentation();
        if (settings.Enabled)
        {
            builder.AddPrometheusHttpListener(o =>
            {
                o.Host = settings.Host;
                o.Port = settings.Port;
                o.ScrapeEndpointPath = settings.Path;
            });
        }
        if (settings.Otlp.Enabled)
        {
            var otlp = settings.Otlp;
            builder.AddOtlpExporter((exporter, reader) =>
            {
                exporter.Endpoint = otlp.ExportUri;
                exporter.Protocol = otlp.Protocol == OtlpSettings.HttpProtobuf ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)Math.Min(int.MaxValue, otlp.Interval.TotalMilliseconds);
            });
        }
        return builder.Build();
    }
}
