using System.Net;
using System.Net.Sockets;
using OpenTelemetry.Metrics;
using StreamDetect.Engine.Configuration;

namespace StreamDetect.Engine.Telemetry;

/// <summary>
/// One port for operators (<see cref="OperatorHttpServer"/>): the Prometheus scrape endpoint (meter
/// <see cref="EngineMetrics.MeterName"/> plus the .NET runtime metrics) and the health endpoints:
/// <c>/health/live</c> answers 200 while the process serves, <c>/health/ready</c> 200 when the run says it is ready and
/// is not draining, else 503 with the reason as body. The scrape is the OpenTelemetry SDK's HttpListener exporter,
/// listening on a loopback port the system picks that nothing else knows (so no client can race its start), and
/// forwarded from the operators' port with the scraper's Accept header. The provider exports to OTLP too when
/// <c>streamdetect.metrics.otlp</c> is on (<see cref="EngineMeterProvider"/>).
/// </summary>
public sealed class MetricsEndpoint : IDisposable
{
    private static readonly HttpClient Exporter = new() { Timeout = TimeSpan.FromSeconds(30) };

    private readonly MeterProvider _provider;
    private readonly Func<string?> _notReadyBecause;
    private readonly string _path;
    private readonly Uri _exporterUrl;
    private OperatorHttpServer? _server;
    private volatile bool _draining;

    private MetricsEndpoint(MeterProvider provider, Func<string?> notReadyBecause, string path, Uri exporterUrl)
    {
        _provider = provider;
        _notReadyBecause = notReadyBecause;
        _path = path;
        _exporterUrl = exporterUrl;
    }

    /// <summary>The scrape URL, e.g. http://localhost:9464/metrics.</summary>
    public required string MetricsUrl { get; init; }

    /// <summary>The health prefix, e.g. http://localhost:9464/health/.</summary>
    public required string HealthUrl { get; init; }

    /// <summary>Starts serving; a port in use (or refused) is a user error naming the setting.</summary>
    /// <param name="notReadyBecause">Why the run is not ready (the body of a 503), or null when it is.</param>
    public static MetricsEndpoint Start(MetricsSettings settings, Func<string?> notReadyBecause)
    {
        string host = settings.Host;
        IPAddress address;
        try
        {
            address = IPAddress.TryParse(host, out var literal) ? literal : Dns.GetHostAddresses(host)[0];
        }
        catch (Exception e) when (e is SocketException or IndexOutOfRangeException)
        {
            throw new UserInputException($"streamdetect.metrics.prometheus.host: cannot resolve '{host}': {e.Message}", e);
        }
        var (provider, exporterPort) = StartExporter(settings);
        var endpoint = new MetricsEndpoint(provider, notReadyBecause, settings.Path, new Uri($"http://127.0.0.1:{exporterPort}{settings.Path}"))
        {
            MetricsUrl = $"http://{host}:{settings.Port}{settings.Path}",
            HealthUrl = $"http://{host}:{settings.Port}/health/",
        };
        try
        {
            endpoint._server = OperatorHttpServer.Start(address, settings.Port, endpoint.AnswerAsync);
        }
        catch (SocketException e)
        {
            provider.Dispose();
            throw new UserInputException($"streamdetect.metrics.prometheus.port (--metrics-port): cannot listen on {host}:{settings.Port}: {e.Message}", e);
        }
        return endpoint;
    }

    // The exporter on a free loopback port: a port taken between the probe and the exporter's bind is tried again.
    private static (MeterProvider Provider, int Port) StartExporter(MetricsSettings settings)
    {
        for (int attempt = 1; ; attempt++)
        {
            int port = FreeLoopbackPort();
            try
            {
                return (EngineMeterProvider.Build(settings with { Host = "127.0.0.1", Port = port }), port);
            }
            catch (Exception e) when ((e is HttpListenerException or InvalidOperationException) && attempt < 3)
            {
                // Taken meanwhile by another process; a third failure is reported as it is (an internal error).
            }
        }
    }

    private static int FreeLoopbackPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    /// <summary>From now on /health/ready answers 503 (SIGTERM, Ctrl-C: the run drains).</summary>
    public void Drain() => _draining = true;

    /// <summary>
    /// Keeps serving for <paramref name="linger"/> after the run (ready answers 503): until <paramref name="stop"/>
    /// after a finished run; waited out after a stopped or failed one (pass <see cref="CancellationToken.None"/>).
    /// </summary>
    public async Task LingerAsync(TimeSpan linger, CancellationToken stop)
    {
        Drain();
        if (linger <= TimeSpan.Zero) return;
        try
        {
            await Task.Delay(linger, stop);
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C or SIGTERM while lingering: the run was over already.
        }
    }

    private async Task<OperatorResponse> AnswerAsync(OperatorRequest request, CancellationToken cancellation)
    {
        string path = request.Path.Length > 1 ? request.Path.TrimEnd('/') : request.Path;
        if (path == _path.TrimEnd('/')) return await ScrapeAsync(request.Accept, cancellation);
        return path switch
        {
            "/health/live" => OperatorResponse.Text(200, "live"),
            "/health/ready" when _draining => OperatorResponse.Text(503, "draining"),
            "/health/ready" => _notReadyBecause() is string reason ? OperatorResponse.Text(503, "not ready: " + reason) : OperatorResponse.Text(200, "ready"),
            _ => OperatorResponse.Text(404, $"not found: {_path}, /health/live, /health/ready"),
        };
    }

    private async Task<OperatorResponse> ScrapeAsync(string? accept, CancellationToken cancellation)
    {
        using var scrape = new HttpRequestMessage(HttpMethod.Get, _exporterUrl);
        if (accept is not null) scrape.Headers.TryAddWithoutValidation("Accept", accept);
        try
        {
            using var answer = await Exporter.SendAsync(scrape, cancellation);
            byte[] body = await answer.Content.ReadAsByteArrayAsync(cancellation);
            string contentType = answer.Content.Headers.ContentType?.ToString() ?? "text/plain; charset=utf-8";
            return new OperatorResponse((int)answer.StatusCode, contentType, body);
        }
        catch (HttpRequestException e)
        {
            return OperatorResponse.Text(502, "the metrics exporter did not answer: " + e.Message);
        }
    }

    public void Dispose()
    {
        _server?.Dispose();
        _provider.Dispose();
    }
}
