using System.Diagnostics;
using System.Globalization;
using System.Net.Http;
using Confluent.Kafka;
using StreamDetect.Integration.Tests.Support;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Training;
using StreamDetect.Stages.Generator;

namespace StreamDetect.Integration.Tests.Kafka;

/// <summary>
/// `run --source kafka --metrics-port` on the mock cluster, as an operator sees it: /health/ready waits for the
/// consumer's partition assignment (held back by another member of the group that does not give its partitions
/// up), the lag gauge shows every owned partition, and the commit duration is recorded.
/// </summary>
[Collection(KafkaCollection.Name)]
public sealed class KafkaMetricsProcessTests(KafkaMockFixture kafka)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task Ready_waits_for_the_assignment_and_the_scrape_shows_the_lag_per_partition_and_the_commit_duration()
    {
        using var dir = new TempDirectory("sd-kafka-metrics-");
        const int partitions = 4;
        string topic = kafka.NewTopic("metrics-events", partitions), alerts = kafka.NewTopic("metrics-alerts", 1);
        string group = kafka.NewGroup("metrics");
        kafka.ProduceEvents(topic, 0, 2000);
        var end = kafka.EndOffsets(topic, partitions);
        string model = TrainModel(dir.Path);
        int port = FreePort();
        // Commits wait until the end (1 h, a million offsets): the committed offsets stay at 0 while the run goes on,
        // so the lag of each partition is its end offset, whatever the engine has read.
        await File.WriteAllTextAsync(dir.File("engine.conf"), $$"""
            streamdetect {
              store.data-dir = "{{dir.File("data")}}"
              routing.max-wait = 5ms
              metrics.prometheus.linger = 60s
              kafka {
                bootstrap-servers = "{{kafka.Bootstrap}}"
                consumer {
                  topics = ["{{topic}}"]
                  group-id = "{{group}}"
                  commit { max-batch = 1000000, max-interval = 1h }
                  properties { "session.timeout.ms" = "6000", "max.poll.interval.ms" = "6000", "heartbeat.interval.ms" = "300", "partition.assignment.strategy" = "range" }
                }
                producer { alerts-topic = "{{alerts}}", properties { "linger.ms" = "1" } }
              }
            }
            """, TestContext.Current.CancellationToken);

        // Another member of the group holds every partition (committed at 0) and does not give them up until the test
        // says so (its revocation handler waits; it stays inside its poll, so librdkafka does not make it leave): the
        // rebalance the engine's consumer starts cannot complete meanwhile, so it gets no assignment.
        using var release = new ManualResetEventSlim();
        using var stopHolding = new CancellationTokenSource();
        using var holder = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = kafka.Bootstrap,
            GroupId = group,
            EnableAutoCommit = false,
            SessionTimeoutMs = 6000,
            MaxPollIntervalMs = 120000,
            HeartbeatIntervalMs = 300,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.Range,
        }).SetPartitionsRevokedHandler((_, _) => release.Wait(Timeout)).Build();
        holder.Subscribe(topic);
        var joined = Stopwatch.StartNew();
        while (holder.Assignment.Count < partitions)
        {
            Assert.True(joined.Elapsed < Timeout, "the holding consumer got no assignment");
            holder.Consume(TimeSpan.FromMilliseconds(100));
        }
        holder.Commit(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, 0)));
        var holding = Task.Factory.StartNew(() =>
        {
            while (!stopHolding.IsCancellationRequested) holder.Consume(TimeSpan.FromMilliseconds(100));
        }, TaskCreationOptions.LongRunning);

        using var engine = EngineProcess.Start(dir.Path, "run", "--source", "kafka", "--model", model, "--device", "cpu", "--alerts-topic", alerts,
            "--config", dir.File("engine.conf"), "--metrics-port", port.ToString(CultureInfo.InvariantCulture), "--stop-after-idle", "5",
            "--summary-json", dir.File("summary.json"));
        try
        {
            // The stream runs, the group does not assign: not ready, and the body says why.
            string body = "";
            await Probe.UntilAsync(async () => (body = await BodyAsync(port, "/health/ready")).Contains("partition assignment", StringComparison.Ordinal),
                Timeout, () => $"last ready body: {body}\n{engine.Stderr}");
            Assert.Equal(503, await StatusAsync(port, "/health/ready"));
        }
        finally
        {
            release.Set();
            stopHolding.Cancel();
            await holding;
            holder.Close(); // leaves the group: the engine gets every partition
        }
        await Probe.UntilAsync(async () => await StatusAsync(port, "/health/ready") == 200, Timeout, () => engine.Stderr);

        // The lag of each partition: its end offset (committed 0, nothing committed before the end).
        string scrape = "";
        await Probe.UntilAsync(async () =>
        {
            scrape = await ScrapeAsync(port);
            var lag = Lag(scrape, topic);
            return lag.Count == partitions && lag.All(p => p.Value == end[p.Key]);
        }, Timeout, () => $"expected lag {string.Join(", ", end)}; last scrape:\n{scrape}\n{engine.Stderr}");
        Assert.Matches("streamdetect_kafka_consumer_lag\\{[^}]*partition=\"0\"[^}]*topic=\"" + topic + "\"|streamdetect_kafka_consumer_lag\\{[^}]*topic=\"" + topic + "\"[^}]*partition=\"0\"", scrape);

        // Idle for 5 s: drain, the one commit, the report; the endpoint lingers with the final figures.
        await Probe.UntilAsync(() => Task.FromResult(File.Exists(dir.File("summary.json")) && new FileInfo(dir.File("summary.json")).Length > 0), Timeout, () => engine.Stderr);
        Assert.Equal(end, kafka.Committed(group, topic, partitions));
        string final = await ScrapeAsync(port);
        Assert.InRange(Total(final, "streamdetect_kafka_commit_duration_seconds_count", $"group=\"{group}\""), 1, long.MaxValue);
        Assert.Contains("streamdetect_kafka_commit_duration_seconds_bucket{", final, StringComparison.Ordinal);
        Assert.Empty(Lag(final, topic)); // the consumer is closed: it owns no partition
        Assert.Equal(503, await StatusAsync(port, "/health/ready"));

        engine.Terminate(); // ends the linger of a finished run
        Assert.Equal(0, await engine.WaitAsync(Timeout));
    }

    /// <summary>A quick z-score model trained on generated traffic, saved to a file.</summary>
    private static string TrainModel(string directory)
    {
        var events = new TrafficGenerator(GeneratorSettings.Default with { Users = 300, Days = 2, Seed = 4 }).Events();
        using var detector = DetectorTrainer.Train("zscore", DatasetBuilder.Build(events), new TrainingOptions { Device = "cpu" });
        string path = Path.Combine(directory, "zscore.sdm");
        detector.Save(path);
        return path;
    }

    /// <summary>The lag gauge's value per partition of <paramref name="topic"/>.</summary>
    private static Dictionary<int, long> Lag(string text, string topic) =>
        text.Split('\n')
            .Where(l => l.StartsWith("streamdetect_kafka_consumer_lag{", StringComparison.Ordinal) && l.Contains($"topic=\"{topic}\"", StringComparison.Ordinal))
            .ToDictionary(
                l => int.Parse(System.Text.RegularExpressions.Regex.Match(l, "partition=\"(\\d+)\"").Groups[1].Value, CultureInfo.InvariantCulture),
                l => (long)double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

    private static long Total(string text, string name, string label) =>
        text.Split('\n')
            .Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) && l.Contains(label, StringComparison.Ordinal))
            .Sum(l => (long)double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

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

    private static async Task<string> BodyAsync(int port, string path)
    {
        try
        {
            using var response = await Http.GetAsync($"http://localhost:{port}{path}", TestContext.Current.CancellationToken);
            return await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        }
        catch (HttpRequestException)
        {
            return "";
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
}
