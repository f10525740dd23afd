using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using StreamDetect.Integration.Tests.Support;

namespace StreamDetect.Integration.Tests.Cli;

/// <summary>
/// The Grafana dashboard of docker/ against a real engine: every metric its queries read is in the scrape of a short
/// `run --metrics-port` (with dead letters and alerts), except those a file run cannot export, each named with why.
/// </summary>
public sealed class DashboardMetricsProcessTests(TrainedModelFixture model) : IClassFixture<TrainedModelFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>Sample names a run over a file does not export, with the instrument that would export them.</summary>
    private static readonly (string Sample, string Instrument, string Why)[] NotInAFileRun =
    [
        ("streamdetect_kafka_consumer_lag", "streamdetect.kafka.consumer.lag", "--source kafka only"),
        ("streamdetect_kafka_commit_duration_seconds_bucket", "streamdetect.kafka.commit.duration", "--source kafka only"),
        ("streamdetect_kafka_brokers_reachable", "streamdetect.kafka.brokers.reachable", "--source kafka only"),
        // Recorded only for alerts whose event's arrival time the engine knows; a run this short may have none.
        ("streamdetect_latency_ingest_to_alert_seconds_bucket", "streamdetect.latency.ingest_to_alert", "no alert with a known arrival time"),
        // Observed only while the scoring stage runs; this scrape comes after the run (MetricsEndpointProcessTests finds it during one).
        ("streamdetect_scorer_busy", "streamdetect.scorer.busy", "only while the scorer runs"),
    ];

    [Fact]
    public async Task Every_metric_the_dashboard_reads_is_in_the_scrape_of_a_real_run()
    {
        string root = RepositoryRoot();
        var names = DashboardMetricNames(Path.Combine(root, "docker", "grafana", "dashboards", "streamdetect.json"));
        Assert.Contains("streamdetect_events_received_total", names);

        using var dir = new TempDirectory("sd-dashboard-");
        int port = FreePort();
        await File.WriteAllTextAsync(dir.File("metrics.conf"), "streamdetect.metrics.prometheus.linger = 60s\n", TestContext.Current.CancellationToken);
        using var engine = EngineProcess.StartWithInput(dir.Path, "run", "--input", "-", "--model", model.Model, "--metrics-port", port.ToString(CultureInfo.InvariantCulture),
            "--alerts", dir.File("alerts.jsonl"), "--summary-json", dir.File("summary.json"), "--data-dir", dir.File("data"), "--config", dir.File("metrics.conf"));
        // The traffic and a few bad records (the dead-letter counter exports only once one is counted).
        foreach (var line in File.ReadLines(model.Traffic).Append("not json").Append("{\"userId\":\"u1\"}")) await engine.StandardInput.WriteLineAsync(line);
        engine.StandardInput.Close();
        await Probe.UntilAsync(() => Task.FromResult(File.Exists(dir.File("summary.json")) && new FileInfo(dir.File("summary.json")).Length > 0), Timeout, () => engine.Stderr);
        using var summary = JsonDocument.Parse(await File.ReadAllTextAsync(dir.File("summary.json"), TestContext.Current.CancellationToken));
        Assert.InRange(summary.RootElement.GetProperty("alerts").GetInt64(), 1, long.MaxValue);
        string scrape = await Http.GetStringAsync($"http://localhost:{port}/metrics", TestContext.Current.CancellationToken);
        engine.Terminate(); // ends the linger
        Assert.Equal(0, await engine.WaitAsync(Timeout));

        var scraped = Regex.Matches(scrape, @"^(streamdetect_[a-z0-9_]+)[{ ]", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (string name in names)
        {
            if (scraped.Contains(name)) continue;
            var excused = NotInAFileRun.FirstOrDefault(n => n.Sample == name);
            if (excused.Sample is not null) continue;
            missing.Add(name);
        }
        Assert.True(missing.Count == 0, $"the dashboard reads {string.Join(", ", missing)}, which the run did not export; it exported {string.Join(", ", scraped.Order())}");
    }

    private static List<string> DashboardMetricNames(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(panel => panel.GetProperty("targets").EnumerateArray())
            .SelectMany(target => Regex.Matches(target.GetProperty("expr").GetString()!, @"\bstreamdetect_[a-z0-9_]+\b").Select(m => m.Value))
            .Distinct(StringComparer.Ordinal)
            .ToList();
    }

    private static string RepositoryRoot()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "StreamDetect.sln")))
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("repository root not found");
        return root;
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
