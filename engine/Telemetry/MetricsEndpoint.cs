using System.Net;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using StreamDetect.Engine.Configuration;

namespace StreamDetect.Engine.Telemetry;

/// <summary>
/// One port for operators: the Prometheus scrape endpoint (the OpenTelemetry SDK's HttpListener exporter, meter
/// <see cref="EngineMetrics.MeterName"/> plus the .NET runtime metrics) and the health endpoints, served by a
/// second HttpListener of ours on the same port under /health/ (the managed listener shares a port between
/// listeners of one process by path prefix): <c>/health/live</c> answers 200 while the process serves,
/// <c>/health/ready</c> 200 when <paramref name="ready"/> says so and the run is not draining, else 503.
/// </summary>
public sealed class MetricsEndpoint : IDisposable
{
    private readonly MeterProvider _provider;
    private readonly HttpListener _health;
    private readonly Func<bool> _ready;
    private volatile bool _draining;

    private MetricsEndpoint(MeterProvider provider, HttpListener health, Func<bool> ready)
    {
        _provider = provider;
        _health = health;
        _ready = ready;
    }

    /// <summary>The scrape URL, e.g. http://localhost:9464/metrics.</summary>
    public required string MetricsUrl { get; init; }

    /// <summary>The health prefix, e.g. http://localhost:9464/health/.</summary>
    public required string HealthUrl { get; init; }

    /// <summary>Starts serving; a port in use (or refused) is a user error naming the setting.</summary>
    public static MetricsEndpoint Start(MetricsSettings settings, Func<bool> ready)
    {
        string host = settings.Host;
        // Health first: once the port answers, /health is ours (the exporter answers 404 outside its path).
        var health = new HttpListener();
        health.Prefixes.Add($"http://{host}:{settings.Port}/health/");
        try
        {
            health.Start();
        }
        catch (HttpListenerException e)
        {
            throw new UserInputException($"streamdetect.metrics.prometheus.port (--metrics-port): cannot serve /health on {host}:{settings.Port}: {e.Message}", e);
        }
        MeterProvider provider;
        try
        {
            provider = Sdk.CreateMeterProviderBuilder()
                .AddMeter(EngineMetrics.MeterName)
                .AddRuntimeInstrumentation()
                .AddPrometheusHttpListener(o =>
                {
                    o.Host = host;
                    o.Port = settings.Port;
                    o.ScrapeEndpointPath = settings.Path;
                })
                .Build();
        }
        catch (Exception e) when (e is HttpListenerException or InvalidOperationException)
        {
            health.Close();
            throw new UserInputException($"streamdetect.metrics.prometheus.port (--metrics-port): cannot listen on {host}:{settings.Port}: {e.Message}", e);
        }
        string shown = host;
        var endpoint = new MetricsEndpoint(provider, health, ready)
        {
            MetricsUrl = $"http://{shown}:{settings.Port}{settings.Path}",
            HealthUrl = $"http://{shown}:{settings.Port}/health/",
        };
        _ = Task.Run(endpoint.ServeHealthAsync);
        return endpoint;
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

    private async Task ServeHealthAsync()
    {
        while (_health.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _health.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            try
            {
                string path = context.Request.Url?.AbsolutePath.TrimEnd('/') ?? "";
                (int status, string body) = path switch
                {
                    "/health/live" => (200, "live"),
                    "/health/ready" when _draining => (503, "draining"),
                    "/health/ready" => _ready() ? (200, "ready") : (503, "not ready"),
                    _ => (404, "not found: /health/live, /health/ready"),
                };
                context.Response.StatusCode = status;
                context.Response.ContentType = "text/plain; charset=utf-8";
                var bytes = System.Text.Encoding.UTF8.GetBytes(body + "\n");
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or IOException)
            {
                // The client went away; the next request is served.
            }
        }
    }

    public void Dispose()
    {
        _health.Close();
        _provider.Dispose();
    }
}
