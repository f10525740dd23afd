using System.Diagnostics;
using System.Globalization;
using System.Net.Http;
using System.Text.Json;
using Confluent.Kafka;
using StreamDetect.Integration.Tests.Support;
using StreamDetect.Models.Events;
using StreamDetect.Stages.Kafka;
using StreamDetect.Stages.Kafka.Mock;

namespace StreamDetect.Integration.Tests.Kafka;

/// <summary>
/// `streamdetect run --source kafka` as a separate process through broker faults injected into librdkafka's mock
/// cluster: produce, fetch and commit errors, and the only broker down then up. End to end (the Kafka source, the
/// users' persisted state, the alert producer): every produced event is in the users' state exactly once
/// (`state dump`), every user alerts once with a unique alertId, the offsets are committed to the end, and while
/// the broker is down /health/ready and the streamdetect_kafka_brokers_reachable gauge say so.
/// Each test has its own mock cluster (the errors are cluster-wide); skipped where librdkafka's mock is missing.
/// </summary>
[Collection(KafkaBrokerFaultCollection.Name)]
public sealed class KafkaBrokerFaultTests(KafkaFaultModelFixture models, ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>Users per phase: each phase writes to its own users, so each phase's users alert once (thresholds 0, a year of cooldown).</summary>
    private const int UsersPerPhase = 37;

    private readonly Dictionary<string, int> _produced = new(StringComparer.Ordinal);

    [Fact]
    public async Task Produce_fetch_and_commit_errors_must_be_retried_with_backoff_losing_and_duplicating_nothing()
    {
        using var cluster = StartMockOrSkip(brokers: 3);
        using var dir = new TempDirectory("sd-kafka-faults-");
        await PrepareAsync(cluster, dir, eventPartitions: 4, alertPartitions: 2, events: 1000, replicationFactor: 3);
        string model = models.ModelPath;

        // Pushed errors answer the next requests of their kind, from any client, in order: the events are all
        // written, so the engine's clients meet every one of them (its alert producer the produce errors).
        cluster.StartRequestTracking();
        ErrorCode[] produceErrors = [ErrorCode.NotEnoughReplicas, ErrorCode.NotLeaderForPartition, ErrorCode.NotEnoughReplicasAfterAppend, ErrorCode.RequestTimedOut];
        ErrorCode[] fetchErrors = [ErrorCode.NotLeaderForPartition, ErrorCode.LeaderNotAvailable, ErrorCode.KafkaStorageError, ErrorCode.RequestTimedOut];
        ErrorCode[] commitErrors = [ErrorCode.GroupCoordinatorNotAvailable, ErrorCode.NotCoordinatorForGroup, ErrorCode.RequestTimedOut, ErrorCode.GroupLoadInProgress];
        cluster.PushRequestErrors(KafkaApiKey.Produce, produceErrors);
        cluster.PushRequestErrors(KafkaApiKey.Fetch, fetchErrors);
        cluster.PushRequestErrors(KafkaApiKey.OffsetCommit, commitErrors);

        var clock = Stopwatch.StartNew();
        // Idle stop after 8 s: the pushed fetch errors back off before the first record arrives, and on a loaded CI
        // machine start-up plus that took over 3 s once, so the run drained before it had read or committed anything.
        using var engine = StartEngine(dir, model, port: null, idleSeconds: 8);
        // A second wave while the stream runs: once the engine sends its first commit, more fetch and commit errors,
        // then the second phase's events (the test's producer sends no fetch or commit). Not later: the refused
        // commits back off, and the idle stop (8 s after the last record was done) does not wait for them.
        await Probe.UntilAsync(() => Task.FromResult(cluster.RequestCount(KafkaApiKey.OffsetCommit) >= 1), Timeout, () => engine.Stderr);
        cluster.PushRequestErrors(KafkaApiKey.Fetch, fetchErrors);
        cluster.PushRequestErrors(KafkaApiKey.OffsetCommit, commitErrors);
        Produce(cluster, "events", "b", 1000);

        int code = await engine.WaitAsync(Timeout);
        output.WriteLine($"exit {code} after {clock.Elapsed.TotalSeconds:F1} s\n--- stderr\n{engine.Stderr}");
        Assert.True(code == 0, engine.Stderr);
        int produce = cluster.RequestCount(KafkaApiKey.Produce), fetch = cluster.RequestCount(KafkaApiKey.Fetch), commit = cluster.RequestCount(KafkaApiKey.OffsetCommit);
        output.WriteLine($"requests: produce {produce}, fetch {fetch}, offset commit {commit}");
        Assert.True(produce > produceErrors.Length, $"every produce error was answered ({produce} produce requests)");
        Assert.True(fetch > 2 * fetchErrors.Length, $"every fetch error was answered ({fetch} fetch requests)");
        Assert.True(commit > 2 * commitErrors.Length, $"every commit error was answered ({commit} commit requests)");

        await AssertNothingLostOrDuplicatedAsync(cluster, dir, partitions: 4, alertPartitions: 2);
    }

    [Fact]
    public async Task A_broker_down_then_up_must_show_in_ready_and_the_metric_and_the_run_must_resume_losing_and_duplicating_nothing()
    {
        using var cluster = StartMockOrSkip(brokers: 1);
        using var dir = new TempDirectory("sd-kafka-down-");
        await PrepareAsync(cluster, dir, eventPartitions: 2, alertPartitions: 1, events: 600);
        string model = models.ModelPath;
        int port = FreePort();

        using var engine = StartEngine(dir, model, port, idleSeconds: 3);
        using var watch = Watch(cluster);
        await Probe.UntilAsync(async () => Committed(watch, 2) >= 600 && AlertsWritten(watch, 1) >= UsersPerPhase && await StatusAsync(port, "/health/ready") == 200,
            Timeout, () => engine.Stderr);
        Assert.Equal(1, BrokersReachable(await ScrapeAsync(port)));

        // The second phase goes out and the broker goes down at once: its records, commits and alerts are in flight.
        Produce(cluster, "events", "b", 600);
        var down = Stopwatch.StartNew();
        cluster.SetBrokerDown(1);
        string body = "", scrape = "";
        await Probe.UntilAsync(async () => (body = await BodyAsync(port, "/health/ready")).Contains("no Kafka broker reachable", StringComparison.Ordinal),
            Timeout, () => $"last ready body: {body}\n{engine.Stderr}");
        Assert.Equal(503, await StatusAsync(port, "/health/ready"));
        await Probe.UntilAsync(async () => BrokersReachable(scrape = await ScrapeAsync(port)) == 0,
            Timeout, () => scrape);
        output.WriteLine($"unreachable reported {down.Elapsed.TotalSeconds:F1} s after the broker went down: {body}");

        // Down longer than the group session (3 s): the group forgets the member, so the return is a rejoin with replays.
        await Task.Delay(TimeSpan.FromSeconds(4) - down.Elapsed > TimeSpan.Zero ? TimeSpan.FromSeconds(4) - down.Elapsed : TimeSpan.Zero, TestContext.Current.CancellationToken);
        cluster.SetBrokerUp(1);
        var up = Stopwatch.StartNew();
        await Probe.UntilAsync(async () => await StatusAsync(port, "/health/ready") == 200 && BrokersReachable(scrape = await ScrapeAsync(port)) == 1,
            Timeout, () => $"{scrape}\n{engine.Stderr}");
        output.WriteLine($"ready again {up.Elapsed.TotalSeconds:F1} s after the broker came back");
        Produce(cluster, "events", "c", 600);

        await ExitedCleanlyAsync(engine, "run");
        Assert.Contains("brokers reachable again after", engine.Stderr);
        await AssertNothingLostOrDuplicatedAsync(cluster, dir, partitions: 2, alertPartitions: 1);
    }

    [Fact]
    public async Task Commits_refused_when_the_run_stops_must_be_retried_with_backoff_until_the_coordinator_accepts_them()
    {
        using var cluster = StartMockOrSkip(brokers: 1);
        using var dir = new TempDirectory("sd-kafka-final-commit-");
        await PrepareAsync(cluster, dir, eventPartitions: 2, alertPartitions: 1, events: 300);

        using var engine = StartEngine(dir, models.ModelPath, port: null, idleSeconds: 3);
        using var watch = Watch(cluster);
        await Probe.UntilAsync(() => Task.FromResult(Committed(watch, 2) >= 300), Timeout, () => engine.Stderr);
        // From now on the coordinator refuses every commit, until a second after the run began its stop.
        cluster.PushRequestErrors(KafkaApiKey.OffsetCommit, Enumerable.Repeat(ErrorCode.RequestTimedOut, 1000).ToArray());
        Produce(cluster, "events", "b", 300);
        await Probe.UntilAsync(() => Task.FromResult(engine.Stderr.Contains("draining and committing", StringComparison.Ordinal)), Timeout, () => engine.Stderr);
        Assert.Equal(300, Committed(watch, 2));
        await Task.Delay(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        cluster.ClearRequestErrors(KafkaApiKey.OffsetCommit);

        await ExitedCleanlyAsync(engine, "run");
        Assert.Contains("commit failed (Broker: Request timed out)", engine.Stderr);
        await AssertNothingLostOrDuplicatedAsync(cluster, dir, partitions: 2, alertPartitions: 1);
    }

    [Fact]
    public async Task An_alert_the_broker_refuses_must_stop_the_run_with_exit_code_4_and_go_out_once_on_the_rerun()
    {
        using var cluster = StartMockOrSkip(brokers: 1);
        using var dir = new TempDirectory("sd-kafka-refused-alert-");
        await PrepareAsync(cluster, dir, eventPartitions: 2, alertPartitions: 1, events: 300);

        // Not retriable: the first alerts are refused for good.
        cluster.PushRequestErrors(KafkaApiKey.Produce, ErrorCode.TopicAuthorizationFailed);
        using (var first = StartEngine(dir, models.ModelPath, port: null, idleSeconds: 2))
        {
            int failed = await first.WaitAsync(Timeout);
            output.WriteLine($"first run: exit {failed}\n--- stderr\n{first.Stderr}");
            Assert.Equal(4, failed);
            var errors = first.Stderr.Split('\n').Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToList();
            Assert.Single(errors);
            Assert.Contains("topic 'alerts'", errors[0]);
            Assert.Contains("authorization", errors[0], StringComparison.OrdinalIgnoreCase);
        }

        using var rerun = StartEngine(dir, models.ModelPath, port: null, idleSeconds: 2);
        await ExitedCleanlyAsync(rerun, "rerun");
        await AssertNothingLostOrDuplicatedAsync(cluster, dir, partitions: 2, alertPartitions: 1);
    }

    /// <summary>The three topics (events, alerts, dead-letters), <paramref name="events"/> events for users "a*", and the engine's Kafka overlay.</summary>
    private async Task PrepareAsync(KafkaMockCluster cluster, TempDirectory dir, int eventPartitions, int alertPartitions, int events, int replicationFactor = 1)
    {
        cluster.CreateTopic("events", eventPartitions, replicationFactor);
        cluster.CreateTopic("alerts", alertPartitions, replicationFactor);
        cluster.CreateTopic("dead-letters", 1, replicationFactor);
        Produce(cluster, "events", "a", events);
        await WriteConfigAsync(dir, cluster);
    }

    /// <summary>Waits for the engine to exit, logs its stderr, and asserts exit code 0.</summary>
    private async Task ExitedCleanlyAsync(EngineProcess engine, string name)
    {
        int code = await engine.WaitAsync(Timeout);
        output.WriteLine($"{name}: exit {code}\n--- stderr\n{engine.Stderr}");
        Assert.True(code == 0, engine.Stderr);
    }

    /// <summary>
    /// The committed offsets are the end offsets; `state dump` holds every user with exactly the events produced
    /// for them; the alert topic holds one alert per user (thresholds 0, a year of cooldown), with unique alertIds.
    /// </summary>
    private async Task AssertNothingLostOrDuplicatedAsync(KafkaMockCluster cluster, TempDirectory dir, int partitions, int alertPartitions)
    {
        using (var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = "faults" }).Build())
        {
            var committed = consumer.Committed(Enumerable.Range(0, partitions).Select(p => new TopicPartition("events", p)), TimeSpan.FromSeconds(10));
            foreach (var offset in committed)
                Assert.Equal(consumer.QueryWatermarkOffsets(offset.TopicPartition, TimeSpan.FromSeconds(10)).High.Value, offset.Offset.Value);
        }

        var (code, stdout, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, "state", "dump", "--data-dir", dir.File("data"), "--out", "-");
        Assert.True(code == 0, stderr);
        var dumped = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement)
            .ToDictionary(u => u.GetProperty("userId").GetString()!, u => u.GetProperty("eventCount").GetInt32(), StringComparer.Ordinal);
        Assert.Equal(_produced.OrderBy(p => p.Key, StringComparer.Ordinal), dumped.OrderBy(p => p.Key, StringComparer.Ordinal));

        var alerts = ReadAlerts(cluster, alertPartitions, expected: _produced.Count);
        var ids = alerts.Select(a => a.GetProperty("alertId").GetString()).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(_produced.Keys.Order(StringComparer.Ordinal), alerts.Select(a => a.GetProperty("userId").GetString()!).Order(StringComparer.Ordinal));
    }

    private static KafkaMockCluster StartMockOrSkip(int brokers)
    {
        try
        {
            var cluster = KafkaMockCluster.Start(brokers);
            cluster.SetGroupInitialRebalanceDelay(TimeSpan.FromMilliseconds(50));
            return cluster;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or InvalidOperationException)
        {
            Assert.Skip($"librdkafka's mock cluster is not available here: {e.Message}");
            throw;
        }
    }

    /// <summary>Fast retries (50 ms doubling to 1 s), a short group session, quick commits; every scored user alerts once.</summary>
    private static Task WriteConfigAsync(TempDirectory dir, KafkaMockCluster cluster) =>
        File.WriteAllTextAsync(dir.File("engine.conf"), $$"""
            streamdetect {
              store.data-dir = "{{dir.File("data")}}"
              routing.max-wait = 5ms
              thresholds { mode = fixed, fixed { new = 0, established = 0 } }
              alerts.cooldown = 365d
              kafka {
                bootstrap-servers = "{{cluster.BootstrapServers}}"
                unavailable-timeout = 60s
                retry-backoff = 50ms
                retry-backoff-max = 1s
                consumer {
                  topics = ["events"]
                  group-id = "faults"
                  revoke-drain-timeout = 2s
                  commit { max-batch = 100, max-interval = 100ms }
                  properties { "session.timeout.ms" = "3000", "heartbeat.interval.ms" = "300" }
                }
                producer { alerts-topic = "alerts", dead-letters-topic = "dead-letters", properties { "linger.ms" = "1" } }
              }
            }
            """, TestContext.Current.CancellationToken);

    private static EngineProcess StartEngine(TempDirectory dir, string model, int? port, int idleSeconds)
    {
        string[] args = ["run", "--source", "kafka", "--model", model, "--device", "cpu", "--alerts-topic", "alerts",
            "--config", dir.File("engine.conf"), "--stop-after-idle", idleSeconds.ToString(CultureInfo.InvariantCulture)];
        if (port is int p) args = [.. args, "--metrics-port", p.ToString(CultureInfo.InvariantCulture)];
        return EngineProcess.Start(dir.Path, args);
    }

    /// <summary>Writes <paramref name="count"/> events for users PREFIX-0..PREFIX-36 (key = userId, header sd-schema = 1) and counts them per user.</summary>
    private void Produce(KafkaMockCluster cluster, string topic, string prefix, int count)
    {
        int errors = 0;
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers, EnableIdempotence = true, LingerMs = 5 }).Build();
        var headers = new Headers { { "sd-schema", "1"u8.ToArray() } };
        for (int i = 0; i < count; i++)
        {
            string user = $"{prefix}-{i % UsersPerPhase}";
            var record = ProducerRecord.ForEvent(new UserEvent(user, 1_795_000_000_000 + i * 1000L, i % 5 == 0 ? "cart" : "view") { Item = $"sku-{i}" });
            producer.Produce(topic, new Message<string, byte[]> { Key = record.Key!, Value = record.Value, Headers = headers }, report =>
            {
                if (report.Error.IsError) Interlocked.Increment(ref errors);
            });
            _produced[user] = _produced.GetValueOrDefault(user) + 1;
        }
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, errors);
    }

    /// <summary>A client of the engine's group that never joins it: it reads the group's committed offsets and the watermarks.</summary>
    private static IConsumer<Ignore, Ignore> Watch(KafkaMockCluster cluster) =>
        new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = "faults" }).Build();

    private static long Committed(IConsumer<Ignore, Ignore> consumer, int partitions) =>
        consumer.Committed(Enumerable.Range(0, partitions).Select(p => new TopicPartition("events", p)), TimeSpan.FromSeconds(10))
            .Sum(p => Math.Max(0, p.Offset.Value));

    private static long AlertsWritten(IConsumer<Ignore, Ignore> consumer, int partitions) =>
        Enumerable.Range(0, partitions).Sum(p => consumer.QueryWatermarkOffsets(new TopicPartition("alerts", p), TimeSpan.FromSeconds(10)).High.Value);

    /// <summary>Every record of the alert topic (a duplicate beyond <paramref name="expected"/> is given a moment to show up).</summary>
    private static List<JsonElement> ReadAlerts(KafkaMockCluster cluster, int partitions, int expected)
    {
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = "alert-reader", EnableAutoCommit = false }).Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset("alerts", p, Offset.Beginning)));
        var alerts = new List<JsonElement>();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(15) && (alerts.Count < expected || clock.Elapsed < TimeSpan.FromMilliseconds(300)))
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (result is { IsPartitionEOF: false }) alerts.Add(JsonDocument.Parse(result.Message.Value).RootElement.Clone());
        }
        var extra = consumer.Consume(TimeSpan.FromMilliseconds(300));
        if (extra is { IsPartitionEOF: false }) alerts.Add(JsonDocument.Parse(extra.Message.Value).RootElement.Clone());
        consumer.Close();
        return alerts;
    }

    /// <summary>The value of the streamdetect_kafka_brokers_reachable gauge in a scrape, or null when it is absent.</summary>
    private static double? BrokersReachable(string scrape) =>
        scrape.Split('\n')
            .Where(l => l.StartsWith("streamdetect_kafka_brokers_reachable{", StringComparison.Ordinal) || l.StartsWith("streamdetect_kafka_brokers_reachable ", StringComparison.Ordinal))
            .Select(l => (double?)double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture))
            .FirstOrDefault();

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
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
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
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
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
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return "";
        }
    }
}
