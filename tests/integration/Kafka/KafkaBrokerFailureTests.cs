using System.Diagnostics;
using System.Text.Json;
using Confluent.Kafka;
using Akka.Streams.Dsl;
using StreamDetect.Integration.Tests.Support;
using StreamDetect.Stages.Failures;
using StreamDetect.Stages.Kafka;
using StreamDetect.Stages.Kafka.Mock;

namespace StreamDetect.Integration.Tests.Kafka;

/// <summary>
/// `streamdetect run --source kafka` as a separate process against an unhealthy cluster: an unreachable
/// bootstrap, a missing topic, records deleted by retention before the group read them, brokers killed
/// mid-run. Each fails with exit code 4 and one line, or reports exactly what was lost.
/// </summary>
[Collection(KafkaCollection.Name)]
public sealed class KafkaBrokerFailureTests(KafkaMockFixture kafka, ITestOutputHelper output)
{
    private const int BrokerFailure = 4;
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    /// <summary>Slack for starting the .NET process on a busy 2-core machine, on top of a configured timeout.</summary>
    private static readonly TimeSpan StartUpSlack = TimeSpan.FromSeconds(20);

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Log lines of WARNING or ERROR level, wherever they went.</summary>
    private static int LogLines(string stdout, string stderr) =>
        Lines(stdout).Concat(Lines(stderr)).Count(l => l.StartsWith("[WARNING]", StringComparison.Ordinal) || l.StartsWith("[ERROR]", StringComparison.Ordinal));

    private static void AssertOneErrorLine(string stdout, string stderr, string expected)
    {
        var errors = Lines(stderr).Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToList();
        Assert.Single(errors);
        Assert.Contains(expected, errors[0]);
        Assert.DoesNotContain(Lines(stdout).Concat(Lines(stderr)), l => l.StartsWith("at ", StringComparison.Ordinal)); // no stack trace
        Assert.DoesNotContain(expected, stdout);
    }

    private async Task<(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)> RunAsync(TempDirectory dir, string hocon, params string[] arguments)
    {
        string overlay = dir.File($"overlay-{Guid.NewGuid():N}.conf");
        await File.WriteAllTextAsync(overlay, hocon, TestContext.Current.CancellationToken);
        var clock = Stopwatch.StartNew();
        var (code, stdout, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, [.. arguments, "--config", overlay]);
        output.WriteLine($"exit {code} after {clock.Elapsed.TotalSeconds:F1} s\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
        return (code, stdout, stderr, clock.Elapsed);
    }

    /// <summary>
    /// A short group session: a member that closed is otherwise kept by the mock cluster until its session
    /// (45 s) expires, so a rerun of the same group waits that long for its assignment (as before this change).
    /// </summary>
    private const string ShortSession = """streamdetect.kafka.consumer.properties { "session.timeout.ms" = "3000", "heartbeat.interval.ms" = "300" }""";

    private static string[] IngestArguments(string bootstrap, string topic, string group, string dataDir, params string[] more) =>
        ["run", "--source", "kafka", "--bootstrap", bootstrap, "--topic", topic, "--group", group, "--ingest-only", "--data-dir", dataDir, .. more];

    [Fact]
    public async Task An_unreachable_bootstrap_must_fail_within_the_connect_timeout_with_exit_code_4_and_one_line()
    {
        using var dir = new TempDirectory();
        var connectTimeout = TimeSpan.FromSeconds(3);
        var (code, stdout, stderr, elapsed) = await RunAsync(dir, "streamdetect.kafka.connect-timeout = 3s",
            IngestArguments("127.0.0.1:1", "events", "g", dir.File("data"), "--stop-after-idle", "60"));

        Assert.Equal(BrokerFailure, code);
        Assert.Single(Lines(stderr));
        AssertOneErrorLine(stdout, stderr, "error: kafka: no broker at 127.0.0.1:1 answered within 3 s");
        Assert.Contains("streamdetect.kafka.connect-timeout", stderr);
        Assert.Equal("", stdout.Trim());
        Assert.InRange(elapsed, connectTimeout, connectTimeout + StartUpSlack);
    }

    [Fact]
    public async Task A_missing_event_topic_must_fail_at_once_with_exit_code_4_naming_the_topic()
    {
        using var dir = new TempDirectory();
        string missing = kafka.NewGroup("no-such-topic"); // a unique name that was never created
        var (code, stdout, stderr, elapsed) = await RunAsync(dir, "streamdetect.kafka.connect-timeout = 30s",
            IngestArguments(kafka.Bootstrap, missing, "g", dir.File("data"), "--stop-after-idle", "60"));

        Assert.Equal(BrokerFailure, code);
        Assert.Single(Lines(stderr));
        AssertOneErrorLine(stdout, stderr, $"error: kafka: topic '{missing}' (events, streamdetect.kafka.consumer.topics) does not exist at {kafka.Bootstrap}");
        Assert.Equal("", stdout.Trim());
        Assert.True(elapsed < StartUpSlack, $"a missing topic is known from the first metadata reply, not after the 30 s timeout ({elapsed})");
    }

    [Fact]
    public async Task A_missing_dead_letter_topic_must_fail_with_exit_code_4_naming_the_topic()
    {
        using var dir = new TempDirectory();
        string topic = kafka.NewTopic("dlq-check-events", 1);
        string missing = kafka.NewGroup("no-such-dlq");
        var (code, stdout, stderr, _) = await RunAsync(dir, "",
            IngestArguments(kafka.Bootstrap, topic, "g", dir.File("data"), "--stop-after-idle", "60", "--dead-letter-topic", missing));

        Assert.Equal(BrokerFailure, code);
        AssertOneErrorLine(stdout, stderr, $"error: kafka: topic '{missing}' (dead letters, streamdetect.kafka.producer.dead-letters-topic) does not exist");
    }

    [Fact]
    public async Task A_topic_whose_oldest_records_were_deleted_must_report_the_exact_number_lost_and_fail_when_set_to()
    {
        using var dir = new TempDirectory();
        string topic = kafka.NewTopic("retention", 1);
        string group = kafka.NewGroup("retention");
        var partition = new TopicPartition(topic, 0);

        // A first run reads offsets 0..99 and commits 100.
        kafka.ProduceEvents(topic, 0, 100);
        var first = await RunAsync(dir, ShortSession, IngestArguments(kafka.Bootstrap, topic, group, dir.File("data1"), "--stop-after-idle", "2", "--summary-json", dir.File("first.json")));
        Assert.Equal(0, first.ExitCode);
        using (var summary = JsonDocument.Parse(await File.ReadAllTextAsync(dir.File("first.json"), TestContext.Current.CancellationToken)))
        {
            Assert.Equal(100, summary.RootElement.GetProperty("events_in").GetInt64());
            Assert.Equal(0, summary.RootElement.GetProperty("events_lost_to_retention").GetInt64());
        }
        Assert.Equal(100, kafka.Committed(group, topic, 1)[0]);

        // 100 more (offsets 100..199); retention deletes everything below 160 before the group comes back.
        kafka.ProduceEvents(topic, 100, 100);
        kafka.Cluster.DeleteRecords(topic, 0, 160);
        using (var watermarks = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = kafka.Bootstrap, GroupId = "watermarks" }).Build())
            Assert.Equal(160, watermarks.QueryWatermarkOffsets(partition, TimeSpan.FromSeconds(10)).Low.Value);

        // Report: committed 100, log start 160: 60 lost, 40 read.
        var second = await RunAsync(dir, ShortSession, IngestArguments(kafka.Bootstrap, topic, group, dir.File("data2"), "--stop-after-idle", "2", "--summary-json", dir.File("second.json")));
        Assert.Equal(0, second.ExitCode);
        using (var summary = JsonDocument.Parse(await File.ReadAllTextAsync(dir.File("second.json"), TestContext.Current.CancellationToken)))
        {
            Assert.Equal(60, summary.RootElement.GetProperty("events_lost_to_retention").GetInt64());
            Assert.Equal(40, summary.RootElement.GetProperty("events_in").GetInt64());
        }
        string log = second.Stdout + second.Stderr;
        Assert.Contains($"60 records of topic '{topic}' partition 0 were deleted by retention before they were read (offsets 100 to 159; the log now starts at 160)", log);
        Assert.Contains("lost to retention   60", log); // the report line

        // Fail, for a new group (no commit, reading from the earliest: offsets 0..159 were never read).
        var third = await RunAsync(dir, ShortSession + "\nstreamdetect.kafka.on-retention-loss = fail",
            IngestArguments(kafka.Bootstrap, topic, kafka.NewGroup("retention-fail"), dir.File("data3"), "--stop-after-idle", "30"));
        Assert.Equal(BrokerFailure, third.ExitCode);
        AssertOneErrorLine(third.Stdout, third.Stderr,
            $"error: kafka: 160 records of topic '{topic}' partition 0 were deleted by retention before they were read (offsets 0 to 159; the log now starts at 160) (streamdetect.kafka.on-retention-loss = fail)");
        Assert.True(third.Elapsed < TimeSpan.FromSeconds(30), "the loss stops the run at once, not after the idle wait");
    }

    [Fact]
    public async Task Brokers_killed_mid_run_must_stop_the_run_after_the_unavailable_timeout_with_exit_code_4_and_few_log_lines()
    {
        using var dir = new TempDirectory();
        using var cluster = KafkaMockCluster.Start(brokers: 2);
        cluster.SetGroupInitialRebalanceDelay(TimeSpan.FromMilliseconds(50));
        cluster.CreateTopic("outage", 2, replicationFactor: 2);

        // The idle stop (3 s) comes before the outage limit (6 s): an outage must not pass for idleness.
        string overlay = dir.File("outage.conf");
        // A commit sent just before the brokers die blocks the consumer until the group session times out:
        // a short session keeps that under the outage limit.
        await File.WriteAllTextAsync(overlay, "streamdetect.kafka.unavailable-timeout = 6s\n" + ShortSession, TestContext.Current.CancellationToken);
        // The idle limit is well above the time librdkafka takes to report every broker down: with 3 s, a loaded CI
        // run once ran out of idle time first (exit 0, 4.2 s after the kill, no outage reported yet).
        using var engine = EngineProcess.Start(dir.Path, [.. IngestArguments(cluster.BootstrapServers, "outage", "outage", dir.File("data"), "--stop-after-idle", "12"), "--config", overlay]);

        // Records keep coming until the brokers go down, so the run is never idle before the outage.
        using var producing = new CancellationTokenSource();
        var producer = Task.Run(async () =>
        {
            using var client = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers, LingerMs = 0 }).Build();
            for (int i = 0; !producing.IsCancellationRequested; i++)
            {
                client.Produce("outage", new Message<string, string> { Key = $"u-{i % 37}", Value = $"{{\"userId\":\"u-{i % 37}\",\"ts\":{1_795_000_000_000 + i * 1000L},\"type\":\"view\"}}" });
                if (i % 10 == 9) client.Flush(TimeSpan.FromSeconds(10));
                await Task.Delay(20, CancellationToken.None);
            }
            client.Flush(TimeSpan.FromSeconds(10));
        }, CancellationToken.None);

        // Wait until the engine reads and commits, then kill every broker.
        using (var reader = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = "outage" }).Build())
        {
            var partitions = new[] { new TopicPartition("outage", 0), new TopicPartition("outage", 1) };
            var deadline = Stopwatch.StartNew();
            while (reader.Committed(partitions, TimeSpan.FromSeconds(10)).Sum(p => Math.Max(0, p.Offset.Value)) < 200)
            {
                Assert.True(deadline.Elapsed < Timeout, $"the engine did not commit 200 records; stderr:\n{engine.Stderr}");
                Assert.DoesNotContain("error:", engine.Stderr);
                await Task.Delay(200, TestContext.Current.CancellationToken);
            }
        }
        producing.Cancel();
        await producer;
        var killed = Stopwatch.StartNew();
        cluster.SetBrokerDown(1);
        cluster.SetBrokerDown(2);

        int code = await engine.WaitAsync(Timeout);
        output.WriteLine($"exit {code} {killed.Elapsed.TotalSeconds:F1} s after the brokers went down\n--- stdout\n{engine.Stdout}\n--- stderr\n{engine.Stderr}");
        Assert.Equal(BrokerFailure, code);
        Assert.InRange(killed.Elapsed, TimeSpan.FromSeconds(6), TimeSpan.FromSeconds(6) + StartUpSlack);
        AssertOneErrorLine(engine.Stdout, engine.Stderr, "reachable for 6 s (streamdetect.kafka.unavailable-timeout)");
        Assert.DoesNotContain("no record for", engine.Stderr);
        // Before condensing, librdkafka's reconnect errors gave thousands of lines a minute.
        Assert.InRange(LogLines(engine.Stdout, engine.Stderr), 0, 15);
    }

    [Fact]
    public async Task A_producer_whose_brokers_are_down_must_fail_as_a_broker_failure_after_its_message_timeout()
    {
        using var cluster = KafkaMockCluster.Start(brokers: 1);
        cluster.CreateTopic("unreachable-alerts", 1);
        cluster.SetBrokerDown(1);
        var settings = KafkaProducerSettings.Create(cluster.BootstrapServers).WithProperty("message.timeout.ms", "2000");
        var clock = Stopwatch.StartNew();
        var task = Source.Single(new ProducerRecord("u-1", "{}"u8.ToArray())).RunWith(KafkaProducerSink.Create(settings, "unreachable-alerts"), kafka.Materializer);

        var e = await Assert.ThrowsAsync<EnvironmentFailureException>(() => task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: {e.Message}");
        Assert.Equal(FailedResource.Broker, e.Resource);
        Assert.Contains("topic 'unreachable-alerts'", e.Message);
        Assert.Contains("message.timeout.ms", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public async Task A_consumer_must_ride_out_an_outage_shorter_than_the_unavailable_timeout()
    {
        using var cluster = KafkaMockCluster.Start(brokers: 1);
        cluster.SetGroupInitialRebalanceDelay(TimeSpan.FromMilliseconds(50));
        cluster.CreateTopic("short-outage", 1);
        void Produce(int from, int count)
        {
            using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build();
            for (int i = from; i < from + count; i++) producer.Produce("short-outage", new Message<Null, string> { Value = i.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        }
        Produce(0, 50);
        var settings = KafkaConsumerSettings.Create(cluster.BootstrapServers, "short-outage", "short-outage")
            .WithProperty("session.timeout.ms", "6000")
            .WithProperty("heartbeat.interval.ms", "300")
            .WithFaults(KafkaFaultSettings.Default.WithUnavailableTimeout(TimeSpan.FromSeconds(30)));
        var received = new System.Collections.Concurrent.ConcurrentQueue<long>();
        var (control, completion) = KafkaConsumerSource.PlainSource(settings)
            .ToMaterialized(Sink.ForEach<KafkaRecord>(r => received.Enqueue(r.Position.Offset)), Keep.Both)
            .Run(kafka.Materializer);

        async Task Until(Func<bool> condition, string what)
        {
            var clock = Stopwatch.StartNew();
            while (!condition())
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"timed out waiting until {what}");
                Assert.False(completion.IsCompleted, $"the source ended while waiting until {what}: {completion.Exception?.GetBaseException().Message}");
                await Task.Delay(100, TestContext.Current.CancellationToken);
            }
        }

        await Until(() => received.Count == 50, "the first 50 records are read");
        cluster.SetBrokerDown(1);
        await Until(() => control.BrokersUnreachable, "the consumer sees no broker");
        await Task.Delay(TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken);
        cluster.SetBrokerUp(1);
        await Until(() => !control.BrokersUnreachable, "the consumer sees the broker again");
        Produce(50, 50);
        await Until(() => received.Count >= 100, "the next 50 records are read");
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)i), received.OrderBy(o => o));
        await control.Shutdown();
        await completion.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
    }
}
