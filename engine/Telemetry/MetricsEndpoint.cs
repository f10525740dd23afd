using System.Net;
using OpenTelemetry.Metrics;
using StreamDetect.Engine.Configuration;

namespace StreamDetect.Engine.Telemetry;

/// <summary>
/// One port for operators: the Prometheus scrape endpoint (the OpenTelemetry SDK's HttpListener exporter, meter
/// <see cref="EngineMetrics.MeterName"/> plus the .NET runtime metrics) and the health endpoints, served by a
/// second HttpListener of ours on the same port under /health/ (the managed listener shares a port between
/// listeners of one process by path prefix): <c>/health/live</c> answers 200 while the process serves,
/// <c>/health/ready</c> 200 when the run says it is ready and is not draining, else 503 with the reason as body.
/// The provider exports to OTLP too when <c>streamdetect.metrics.otlp</c> is on (<see cref="EngineMeterProvider"/>).
/// </summary>
public sealed class MetricsEndpoint : IDisposable
{
    private readonly MeterProvider _provider;
    private readonly HttpListener _health;
    private readonly Func<string?> _notReadyBecause;
    private volatile bool _draining;

    private MetricsEndpoint(MeterProvider provider, HttpListener health, Func<string?> notReadyBecause)
    {
        _provider = provider;
        _health = health;
        _notReadyBecause = notReadyBecause;
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
            provider = EngineMeterProvider.Build(settings);
        }
        catch (Exception e) when (e is HttpListenerException or InvalidOperationException)
        {
            health.Close();
            throw new UserInputException($"streamdetect.metrics.prometheus.port (--metrics-port): cannot listen on {host}:{settings.Port}: {e.Message}", e);
        }
        string shown = host;
        var endpoint = new MetricsEndpoint(provider, health, notReadyBecause)
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
                    "/health/ready" => _notReadyBecause() is string reason ? (503, "not ready: " + reason) : (200, "ready"),
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
