using StreamDetect.Stages.Configuration;

namespace StreamDetect.Engine.Telemetry;

/// <summary>HOCON block <c>streamdetect.metrics.otlp</c>: pushing the same metrics to an OpenTelemetry collector.</summary>
public sealed record OtlpSettings
{
    public const string Grpc = "grpc";
    public const string HttpProtobuf = "http/protobuf";

    public bool Enabled { get; init; }

    /// <summary>The collector: http://HOST:4317 for gRPC, http://HOST:4318 for http/protobuf (/v1/metrics is added when no path is given).</summary>
    public Uri Endpoint { get; init; } = new("http://localhost:4317");

    /// <summary><see cref="Grpc"/> or <see cref="HttpProtobuf"/>.</summary>
    public string Protocol { get; init; } = Grpc;

    /// <summary>Time between two exports.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Where the exporter sends: for http/protobuf the signal's path is added to an endpoint without one.</summary>
    public Uri ExportUri =>
        Protocol == HttpProtobuf && Endpoint.AbsolutePath is "" or "/" ? new Uri(Endpoint, "/v1/metrics") : Endpoint;

    public static OtlpSettings Create(SettingsReader r)
    {
        string endpoint = r.String("endpoint");
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new SettingsException(r.Key("endpoint"), $"'{endpoint}' is not an http:// or https:// URL (e.g. http://collector:4317)");
        return new OtlpSettings
        {
            Enabled = r.Bool("enabled"),
            Endpoint = uri,
            Protocol = r.OneOf("protocol", Grpc, HttpProtobuf),
            Interval = r.Duration("interval"),
        };
    }
}
