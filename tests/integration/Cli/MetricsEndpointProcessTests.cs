using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using StreamDetect.Integration.Tests.Support;

namespace StreamDetect.Integration.Tests.Cli;

/// <summary>
/// `run --metrics-port` as an operator sees it: a process reading events from stdin (so the test decides when
/// the input ends), scraped over HTTP while it runs and after, with its health endpoints.
/// </summary>
public sealed class MetricsEndpointProcessTests(TrainedModelFixture model) : IClassFixture<TrainedModelFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private static readonly string[] Instruments =
    [
        "streamdetect_events_received_total", "streamdetect_events_valid_total", "streamdetect_events_dead_lettered_total",
        "streamdetect_events_persisted_total", "streamdetect_journal_rows_total", "streamdetect_events_scored_total",
        "streamdetect_alerts_total", "streamdetect_model_in_use", "streamdetect_scorer_batch_size_bucket",
        "streamdetect_scorer_batch_duration_seconds_bucket", "streamdetect_latency_ingest_to_scored_seconds_bucket",
        "streamdetect_partitions_local", "streamdetect_users_local", "streamdetect_scorer_busy", "streamdetect_threshold",
        "dotnet_gc_collections_total", "dotnet_thread_pool_thread_count_total", "dotnet_process_memory_working_set_bytes",
    ];

    [Fact]
    public async Task Scraped_totals_equal_the_run_summary_and_ready_goes_from_503_to_200_and_back()
    {
        using var dir = new TempDirectory("sd-metrics-");
        int port = FreePort();
        string[] lines = [.. File.ReadAllLines(model.Traffic), "not json", "{\"broken\":", "{\"userId\":\"u1\"}"];
        using var engine = EngineProcess.StartWithInput(dir.Path, "run", "--input", "-", "--model", model.Model, "--metrics-port", port.ToString(CultureInfo.InvariantCulture),
            "--alerts", dir.File("alerts.jsonl"), "--summary-json", dir.File("summary.json"), "--data-dir", dir.File("data"),
            "--config", WriteLinger(dir, "60s"), "--verbose"); // CI saw one start-up "ArgumentNullException" here, once, without its stack

        // The endpoint answers before the engine and the model are up: not ready yet.
        int first = await FirstAnswerAsync(port, "/health/ready", engine);
        Assert.Equal(503, first);
        Assert.StartsWith("not ready: ", await BodyAsync(port, "/health/ready"));
        Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync($"http://localhost:{port}/health/live", TestContext.Current.CancellationToken)).StatusCode);

        foreach (var line in lines) await engine.StandardInput.WriteLineAsync(line);
        await engine.StandardInput.FlushAsync(TestContext.Current.CancellationToken);
        await Probe.UntilAsync(async () => await StatusAsync(port, "/health/ready") == 200, Timeout, () => engine.Stderr);

        // While it runs (stdin open; the reader holds a partial chunk back until the input ends): events are counted and
        // scored, the node hosts partitions and users, the scorer's busy share and the thresholds of both segments are read.
        string running = "";
        await Probe.UntilAsync(async () =>
        {
            running = await ScrapeAsync(port);
            return Total(running, "streamdetect_events_received_total") > 0 && Total(running, "streamdetect_events_scored_total") > 0
                && running.Contains("streamdetect_scorer_batch_size_bucket", StringComparison.Ordinal)
                && Total(running, "streamdetect_partitions_local") > 0 && Total(running, "streamdetect_users_local") > 0
                && Samples(running, "streamdetect_scorer_busy").Count == 1
                && Samples(running, "streamdetect_threshold", "segment=\"new\"").Count == 1 && Samples(running, "streamdetect_threshold", "segment=\"established\"").Count == 1;
        }, Timeout, () => engine.Stderr + "\nlast scrape:\n" + running);
        Assert.InRange(Samples(running, "streamdetect_scorer_busy").Single(), 0, 1);
        Assert.All(Samples(running, "streamdetect_threshold"), t => Assert.True(double.IsFinite(t)));
        Assert.Contains("streamdetect_model_in_use{", running, StringComparison.Ordinal);
        Assert.Matches("streamdetect_model_in_use\\{[^}]*model=\"[^\"]+@[^\"]+\"[^}]*name=\"[^\"]+\"[^}]*version=\"[^\"]+\"", running);

        engine.StandardInput.Close();
        await Probe.UntilAsync(() => Task.FromResult(File.Exists(dir.File("summary.json")) && new FileInfo(dir.File("summary.json")).Length > 0), Timeout, () => engine.Stderr);
        using var summary = JsonDocument.Parse(await File.ReadAllTextAsync(dir.File("summary.json"), TestContext.Current.CancellationToken));
        var root = summary.RootElement;

        // The run is over (lingering for the scraper): the totals are final and ready says 503.
        string final = await ScrapeAsync(port);
        Assert.All(Instruments, name => Assert.Contains(name, final, StringComparison.Ordinal));
        Assert.Equal(root.GetProperty("events_in").GetInt64(), Total(final, "streamdetect_events_received_total"));
        Assert.Equal(root.GetProperty("events_valid").GetInt64(), Total(final, "streamdetect_events_valid_total"));
        Assert.Equal(3, root.GetProperty("dead_letters").GetInt64());
        Assert.Equal(root.GetProperty("dead_letters").GetInt64(), Total(final, "streamdetect_events_dead_lettered_total"));
        foreach (var reason in root.GetProperty("dead_letter_reasons").EnumerateObject())
            Assert.Equal(reason.Value.GetInt64(), Total(final, "streamdetect_events_dead_lettered_total", $"reason=\"{reason.Name}\""));
        long alerts = root.GetProperty("alerts").GetInt64();
        Assert.InRange(alerts, 1, long.MaxValue);
        Assert.Equal(alerts, Total(final, "streamdetect_alerts_total"));
        Assert.Equal(alerts, File.ReadAllLines(dir.File("alerts.jsonl")).Length);
        // Alerts whose event's arrival time is known (the summary's alert latency counts the same ones).
        Assert.InRange(Total(final, "streamdetect_latency_ingest_to_alert_seconds_count"), 0, alerts);
        Assert.Equal(root.GetProperty("entities").GetProperty("events_persisted").GetInt64(), Total(final, "streamdetect_events_persisted_total"));
        // One node: it hosts every partition and every user in state.
        Assert.Equal(root.GetProperty("entities").GetProperty("partitions").GetInt64(), Total(final, "streamdetect_partitions_local"));
        Assert.Equal(root.GetProperty("entities").GetProperty("users_in_state").GetInt64(), Total(final, "streamdetect_users_local"));
        // Alerts carry the model and the segment they were decided in.
        Assert.All(Lines(final, "streamdetect_alerts_total"), l => Assert.Matches("model=\"[^\"]+@[^\"]+\".*segment=\"(new|established)\"", l));
        Assert.Equal(503, await StatusAsync(port, "/health/ready"));

        engine.Terminate(); // ends the linger of a finished run
        Assert.Equal(0, await engine.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Ready_answers_503_once_SIGTERM_makes_the_run_drain()
    {
        using var dir = new TempDirectory("sd-metrics-drain-");
        int port = FreePort();
        using var engine = EngineProcess.StartWithInput(dir.Path, "run", "--input", "-", "--model", model.Model, "--metrics-port", port.ToString(CultureInfo.InvariantCulture),
            "--alerts", dir.File("alerts.jsonl"), "--data-dir", dir.File("data"), "--config", WriteLinger(dir, "8s"));
        foreach (var line in File.ReadLines(model.Traffic).Take(1000)) await engine.StandardInput.WriteLineAsync(line);
        await engine.StandardInput.FlushAsync(TestContext.Current.CancellationToken);
        await Probe.UntilAsync(async () => await StatusAsync(port, "/health/ready") == 200, Timeout, () => engine.Stderr);

        // stdin stays open: the run would go on without the signal. Once it has drained it lingers 8 s (waited out after a
        // stopped run; it was 30 s) with ready at 503: the probe, every 50 ms, sees it in the drain or the linger.
        engine.Terminate();
        await Probe.UntilAsync(async () => await StatusAsync(port, "/health/ready") == 503, Timeout, () => engine.Stderr);
        Assert.Equal(200, await StatusAsync(port, "/health/live"));
        Assert.Equal(143, await engine.WaitAsync(Timeout));
    }

    [Fact]
    public async Task With_OTLP_on_the_run_posts_its_metrics_to_the_collector_over_http_protobuf()
    {
        using var dir = new TempDirectory("sd-metrics-otlp-");
        int port = FreePort();
        // A collector's OTLP/HTTP receiver as far as the exporter sees it: POST /v1/metrics, answered 200.
        using var collector = new HttpListener();
        collector.Prefixes.Add($"http://localhost:{port}/");
        collector.Start();
        var received = new List<(string ContentType, byte[] Body)>();
        var receiving = Task.Run(async () =>
        {
            while (collector.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await collector.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                if (context.Request.HttpMethod == "POST" && context.Request.Url?.AbsolutePath == "/v1/metrics")
                    lock (received) received.Add((context.Request.ContentType ?? "", body.ToArray()));
                context.Response.StatusCode = 200;
                context.Response.Close();
            }
        }, TestContext.Current.CancellationToken);
        string config = dir.File("otlp.conf");
        await File.WriteAllTextAsync(config, $"streamdetect.metrics.otlp {{ enabled = on, endpoint = \"http://localhost:{port}\", protocol = \"http/protobuf\", interval = 1s }}\n",
            TestContext.Current.CancellationToken);
        using var engine = EngineProcess.StartWithInput(dir.Path, "run", "--input", "-", "--model", model.Model, "--alerts", dir.File("alerts.jsonl"),
            "--data-dir", dir.File("data"), "--config", config);
        foreach (var line in File.ReadLines(model.Traffic).Take(2000)) await engine.StandardInput.WriteLineAsync(line);
        engine.StandardInput.Close();
        Assert.Equal(0, await engine.WaitAsync(Timeout));
        Assert.Contains("metrics exported by OTLP (http/protobuf) to http://localhost:" + port + "/v1/metrics", engine.Stderr);

        // Protobuf keeps instrument names as UTF-8: the engine's and the runtime's are in the payloads.
        string payloads;
        lock (received) payloads = string.Join("\n", received.Select(r => System.Text.Encoding.UTF8.GetString(r.Body)));
        Assert.NotEmpty(received);
        Assert.All(received, r => Assert.Equal("application/x-protobuf", r.ContentType));
        Assert.Contains("streamdetect.events.received", payloads, StringComparison.Ordinal);
        Assert.Contains("streamdetect.events.scored", payloads, StringComparison.Ordinal);
        Assert.Contains("dotnet.gc.collections", payloads, StringComparison.Ordinal);
        collector.Stop();
        await receiving;
    }

    private static string WriteLinger(TempDirectory dir, string linger)
    {
        string path = dir.File("metrics.conf");
        File.WriteAllText(path, $"streamdetect.metrics.prometheus.linger = {linger}\n");
        return path;
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>The status of the first request the endpoint answers (it starts with the process).</summary>
    private static async Task<int> FirstAnswerAsync(int port, string path, EngineProcess engine)
    {
        int status = 0;
        await Probe.UntilAsync(async () => (status = await StatusAsync(port, path)) != 0, Timeout, () => engine.Stderr);
        return status;
    }

    /// <summary>The HTTP status, or 0 when nothing answers (yet).</summary>
    private static async Task<int> StatusAsync(int port, string path)
    {
        try
        {
            using var response = await Http.GetAsync($"http://localhost:{port}{path}", TestContext.Current.CancellationToken);
            return (int)response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return 0;
        }
    }

    private static async Task<string> ScrapeAsync(int port)
    {
        try
        {
            return await Http.GetStringAsync($"http://localhost:{port}/metrics", TestContext.Current.CancellationToken);
        }
        catch (HttpRequestException)
        {
            return "";
        }
    }

    private static async Task<string> BodyAsync(int port, string path)
    {
        using var response = await Http.GetAsync($"http://localhost:{port}{path}", TestContext.Current.CancellationToken);
        return await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>A metric's sample lines (its label sets, or those containing <paramref name="label"/>).</summary>
    private static IEnumerable<string> Lines(string text, string name, string? label = null) =>
        text.Split('\n').Where(l => (l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal)) && (label is null || l.Contains(label, StringComparison.Ordinal)));

    /// <summary>A metric's sample values.</summary>
    private static List<double> Samples(string text, string name, string? label = null) =>
        Lines(text, name, label).Select(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)).ToList();

    /// <summary>The sum of a metric's samples in Prometheus text (over its label sets, or those containing <paramref name="label"/>).</summary>
    private static long Total(string text, string name, string? label = null) =>
        text.Split('\n')
            .Where(l => (l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal)) && (label is null || l.Contains(label, StringComparison.Ordinal)))
            .Sum(l => (long)double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
}
