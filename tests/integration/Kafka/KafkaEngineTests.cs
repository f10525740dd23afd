using System.Text;
using System.Text.Json;
using Akka.Configuration;
using Microsoft.Data.Sqlite;
using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Entities;
using StreamDetect.Engine.Hosting;
using StreamDetect.Engine.Pipeline;
using StreamDetect.Engine.Pipeline.Inputs;
using StreamDetect.Engine.Pipeline.Outputs;
using StreamDetect.Integration.Tests.Support;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Training;
using StreamDetect.Stages.Generator;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Sources;
using StreamDetect.Stages.Validation;

namespace StreamDetect.Integration.Tests.Kafka;

/// <summary>
/// The engine on Kafka: `run --source kafka` consuming from librdkafka's mock cluster, persisting,
/// committing after persistence, alerting to a topic; crash between persistence and commit; two
/// engines of one group and a rebalance.
/// </summary>
[Collection(KafkaCollection.Name)]
public sealed class KafkaEngineTests(KafkaMockFixture kafka, ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    /// <summary>A quick z-score model trained on generated traffic, saved to a file.</summary>
    private static string TrainModel(string directory)
    {
        var events = new TrafficGenerator(GeneratorSettings.Default with { Users = 300, Days = 2, Seed = 4 }).Events();
        using var detector = DetectorTrainer.Train("zscore", DatasetBuilder.Build(events), new TrainingOptions { Device = "cpu" });
        string path = Path.Combine(directory, "zscore.sdm");
        detector.Save(path);
        return path;
    }

    /// <summary>HOCON for an engine on the mock cluster; fixed thresholds at 0 make every scored user alert once (cooldown).</summary>
    private string EngineHocon(string dataDir, string topic, string group, string alerts, string dlq, string commit = "max-batch = 100, max-interval = 100ms", string extra = "") => $$"""
        streamdetect {
          {{extra}}
          store.data-dir = "{{dataDir}}"
          routing.max-wait = 5ms
          thresholds { mode = fixed, fixed { new = 0, established = 0 } }
          alerts.cooldown = 365d
          kafka {
            bootstrap-servers = "{{kafka.Bootstrap}}"
            consumer {
              topics = ["{{topic}}"]
              group-id = "{{group}}"
              revoke-drain-timeout = 2s
              commit { {{commit}} }
              properties {
                "session.timeout.ms" = "3000"
                "heartbeat.interval.ms" = "300"
                "partition.assignment.strategy" = "cooperative-sticky"
              }
            }
            producer { alerts-topic = "{{alerts}}", dead-letters-topic = "{{dlq}}", properties { "linger.ms" = "1" } }
          }
        }
        """;

    private static int DistinctUsers(int count) => Math.Min(count, 37); // KafkaMockFixture.Event: users u-0..u-36

    [Fact]
    public async Task The_engine_persists_every_event_commits_after_persistence_and_alerts_to_the_alert_topic()
    {
        using var dir = new TempDirectory();
        string topic = kafka.NewTopic("engine-events", 4), alerts = kafka.NewTopic("engine-alerts", 2), dlq = kafka.NewTopic("engine-dlq", 1);
        string group = kafka.NewGroup("engine");
        kafka.ProduceEvents(topic, 0, 2000);
        kafka.ProduceRaw(topic, [(Encoding.UTF8.GetBytes("{not json"), "1"), (Encoding.UTF8.GetBytes("{\"userId\":\"u-1\"}"), "1")]);
        string model = TrainModel(dir.Path);

        var config = EngineConfig.Load(null, EngineHocon(dir.File("data"), topic, group, alerts, dlq));
        var request = new RunRequest(config, EventSourceKind.Kafka, null, DeadLetterSinkKind.Kafka, null, model, AlertSinkKind.Kafka, null, TimeSpan.FromSeconds(3), null, "cpu");
        var outcome = await new RunJob(request, TextWriter.Null).RunAsync(TestContext.Current.CancellationToken).WaitAsync(Timeout, TestContext.Current.CancellationToken);
        outcome.Model?.Detector.Dispose();

        var summary = outcome.Summary;
        Assert.Equal(2000, summary.EventsValid);
        Assert.Equal(2, summary.DeadLetters);
        Assert.Equal(2000, summary.Entities!.EventsPersisted);
        Assert.Equal(kafka.EndOffsets(topic, 4), kafka.Committed(group, topic, 4));
        // The streaming time leaves out the group join and the 3 s idle wait that end the run.
        Assert.InRange(summary.StreamingS, 1e-6, summary.ElapsedS - 3);
        // StreamingS is rounded to the millisecond; the rate is computed before rounding.
        Assert.InRange(summary.StreamingEventsPerS, 2000 / (summary.StreamingS + 0.0005) - 1, 2000 / Math.Max(summary.StreamingS - 0.0005, 1e-6) + 1);

        var alertRecords = kafka.ReadAll(alerts, 2, expected: DistinctUsers(2000));
        Assert.Equal(summary.Alerts, alertRecords.Count);
        foreach (var record in alertRecords)
        {
            using var json = JsonDocument.Parse(record.Message.Value);
            Assert.Equal(record.Message.Key, json.RootElement.GetProperty("userId").GetString());
        }
        Assert.Equal(2, kafka.ReadAll(dlq, 1, expected: 2).Count);
        Assert.Equal(2000, await PersistedEventsAsync(config));
    }

    [Fact]
    public async Task Feedback_labels_from_a_topic_move_the_threshold_of_the_segment_their_users_were_scored_in()
    {
        using var dir = new TempDirectory();
        string topic = kafka.NewTopic("fb-events", 2), alerts = kafka.NewTopic("fb-alerts", 1), dlq = kafka.NewTopic("fb-dlq", 1);
        string labels = kafka.NewTopic("fb-labels", 1);
        string group = kafka.NewGroup("fb");
        kafka.ProduceEvents(topic, 0, 500);
        string model = TrainModel(dir.Path);

        var config = EngineConfig.Load(null, EngineHocon(dir.File("data"), topic, group, alerts, dlq) + $$"""

            streamdetect.kafka.feedback { enabled = on, topics = ["{{labels}}"], group-id = "{{kafka.NewGroup("fb-labels")}}" }
            streamdetect.thresholds.feedback { step = 0.05, max-shift = 2.0 }
            """);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var request = new RunRequest(config, EventSourceKind.Kafka, null, DeadLetterSinkKind.Kafka, null, model, AlertSinkKind.Kafka, null, TimeSpan.FromMinutes(2), null, "cpu");
        var job = new RunJob(request, TextWriter.Null);
        var running = job.RunAsync(stop.Token);

        // Thresholds are 0: every user alerts once (cooldown). An analyst calls ten of those alerts false alarms.
        var alerted = kafka.ReadAll(alerts, 1, expected: DistinctUsers(500))
            .Select(r => JsonDocument.Parse(r.Message.Value).RootElement)
            .Select(a => (User: a.GetProperty("userId").GetString()!, Id: a.GetProperty("alertId").GetString()!, Segment: a.GetProperty("segment").GetString()!))
            .ToList();
        string segment = alerted[0].Segment;
        var falseAlarms = alerted.Where(a => a.Segment == segment).Take(10).ToList();
        kafka.ProduceRaw(labels, falseAlarms
            .Select(a => (Encoding.UTF8.GetBytes($$"""{"userId":"{{a.User}}","label":0,"alertId":"{{a.Id}}"}"""), (string?)null))
            .Append((Encoding.UTF8.GetBytes("""{"userId":"u-never-seen","label":1}"""), null))
            .Append((Encoding.UTF8.GetBytes("not a label"), null)));

        var deadline = DateTime.UtcNow + Timeout;
        while (job.Scoring is null || job.Scoring.Decider.FeedbackApplied + job.Scoring.Decider.FeedbackIgnored < falseAlarms.Count + 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "the feedback labels were not applied");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
        var decider = job.Scoring.Decider;
        Assert.Equal(falseAlarms.Count, decider.FeedbackApplied);
        Assert.Equal(1, decider.FeedbackIgnored);
        var thresholds = decider.ThresholdsFor(job.Scoring.Scorer.Detector.StateKey);
        Assert.Equal(falseAlarms.Count * 0.05, thresholds.ShiftOf(segment), 9);
        Assert.Equal(falseAlarms.Count * 0.05, thresholds.For(segment), 9); // fixed threshold 0, raised by the feedback

        stop.Cancel();
        var outcome = await running.WaitAsync(Timeout, TestContext.Current.CancellationToken);
        outcome.Model?.Detector.Dispose();
        Assert.Equal(500, outcome.Summary.EventsValid);
    }

    [Fact]
    public async Task SIGTERM_stops_a_Kafka_run_cleanly_with_everything_persisted_committed_and_the_report_written()
    {
        using var dir = new TempDirectory();
        string topic = kafka.NewTopic("term-events", 4), alerts = kafka.NewTopic("term-alerts", 2), dlq = kafka.NewTopic("term-dlq", 1);
        string group = kafka.NewGroup("term");
        kafka.ProduceEvents(topic, 0, 3000);
        string model = TrainModel(dir.Path);
        string data = dir.File("data");
        // Commits wait (1 h, a million offsets): only the stop itself commits.
        await File.WriteAllTextAsync(dir.File("engine.conf"), EngineHocon(data, topic, group, alerts, dlq, commit: "max-batch = 1000000, max-interval = 1h"), TestContext.Current.CancellationToken);

        using var engine = EngineProcess.Start(dir.Path, "run", "--source", "kafka", "--model", model, "--device", "cpu", "--alerts-topic", alerts,
            "--config", dir.File("engine.conf"), "--summary-json", dir.File("summary.json"));
        var deadline = DateTime.UtcNow + Timeout;
        while (JournalEvents(Path.Combine(data, "streamdetect.db")) < 3000)
        {
            Assert.True(DateTime.UtcNow < deadline, "the engine did not persist the events: " + engine.Stderr);
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
        Assert.All(kafka.Committed(group, topic, 4).Values, offset => Assert.True(offset < 0, "nothing should be committed before the stop"));

        engine.Terminate();
        int code = await engine.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(code == 0, $"exit code {code}: {engine.Stderr}");
        Assert.Contains("stopping: draining and committing", engine.Stderr);
        Assert.Equal(kafka.EndOffsets(topic, 4), kafka.Committed(group, topic, 4));
        using var summary = JsonDocument.Parse(await File.ReadAllTextAsync(dir.File("summary.json"), TestContext.Current.CancellationToken));
        Assert.Equal(3000, summary.RootElement.GetProperty("entities").GetProperty("events_persisted").GetInt64());
        Assert.Equal(DistinctUsers(3000), kafka.ReadAll(alerts, 2, expected: DistinctUsers(3000)).Count);
    }

    [Fact]
    public async Task Killed_after_persistence_but_before_scoring_a_restart_scores_the_persisted_events_and_alerts_once()
    {
        using var dir = new TempDirectory();
        string topic = kafka.NewTopic("unscored-events", 4), alerts = kafka.NewTopic("unscored-alerts", 2), dlq = kafka.NewTopic("unscored-dlq", 1);
        string group = kafka.NewGroup("unscored");
        kafka.ProduceEvents(topic, 0, 3000);
        string model = TrainModel(dir.Path);
        string data = dir.File("data");
        // The first engine persists everything but scores nothing: its micro-batch never closes.
        await File.WriteAllTextAsync(dir.File("first.conf"), EngineHocon(data, topic, group, alerts, dlq,
            extra: "scoring.batcher { max-batch = 1000000, max-wait = 1h }"), TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(dir.File("second.conf"), EngineHocon(data, topic, group, alerts, dlq), TestContext.Current.CancellationToken);
        string[] run = ["run", "--source", "kafka", "--model", model, "--device", "cpu", "--alerts-topic", alerts];

        await RunUntilPersistedThenKillAsync(dir.Path, [.. run, "--config", dir.File("first.conf")], data, 3000);
        Assert.Empty(kafka.ReadAll(alerts, 2, expected: 1, timeout: TimeSpan.FromSeconds(1))); // nothing was scored

        // The killed engine stays a group member until its 3 s session expires; the restart's idle time
        // (1 s) counts from its join, so it still gets the partitions and their replays.
        var (code, _, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, [.. run, "--config", dir.File("second.conf"), "--stop-after-idle", "1", "--summary-json", dir.File("second.json")]);
        Assert.True(code == 0, stderr);

        // Every user was persisted and never scored: each is scored after the restart and alerts once (thresholds 0).
        using var summary = JsonDocument.Parse(await File.ReadAllTextAsync(dir.File("second.json"), TestContext.Current.CancellationToken));
        Assert.Equal(0, summary.RootElement.GetProperty("entities").GetProperty("events_persisted").GetInt64());
        var alerted = kafka.ReadAll(alerts, 2, expected: DistinctUsers(3000))
            .Select(r => JsonDocument.Parse(r.Message.Value).RootElement.GetProperty("userId").GetString()).ToList();
        Assert.Equal(DistinctUsers(3000), alerted.Count);
        Assert.Equal(alerted.Count, alerted.Distinct().Count());
        Assert.Equal(DistinctUsers(3000), summary.RootElement.GetProperty("alerts").GetInt64());
    }

    [Fact]
    public async Task Killed_after_persistence_but_before_commit_a_restart_neither_double_counts_nor_duplicates_alerts()
    {
        using var dir = new TempDirectory();
        string topic = kafka.NewTopic("crash-events", 4), alerts = kafka.NewTopic("crash-alerts", 2), dlq = kafka.NewTopic("crash-dlq", 1);
        string group = kafka.NewGroup("crash");
        kafka.ProduceEvents(topic, 0, 3000);
        string model = TrainModel(dir.Path);
        string data = dir.File("data");
        // Commits are held back (1 h, a million offsets) so the kill lands after persistence and before any commit.
        // Scoring confirmations are journaled only with event rows (none follow the last batch), so the restart
        // scores most users again; the alerts read back from the topic keep those users in cooldown.
        await File.WriteAllTextAsync(dir.File("first.conf"), EngineHocon(data, topic, group, alerts, dlq, commit: "max-batch = 1000000, max-interval = 1h",
            extra: "entities.scored-marks-flush = 1h"), TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(dir.File("second.conf"), EngineHocon(data, topic, group, alerts, dlq), TestContext.Current.CancellationToken);
        string[] run = ["run", "--source", "kafka", "--model", model, "--device", "cpu", "--alerts-topic", alerts];

        // Killed once every user's alert is on the topic (thresholds 0: each user alerts once).
        await RunUntilPersistedThenKillAsync(dir.Path, [.. run, "--config", dir.File("first.conf")], data, 3000,
            beforeKill: () => Assert.Equal(DistinctUsers(3000), kafka.ReadAll(alerts, 2, expected: DistinctUsers(3000), timeout: Timeout).Count));
        Assert.All(kafka.Committed(group, topic, 4).Values, offset => Assert.True(offset < 0, "nothing should have been committed"));
        int alertsBefore = kafka.ReadAll(alerts, 2, expected: DistinctUsers(3000)).Count;

        // The killed engine stays a group member until its 3 s session expires; the restart's idle time
        // (1 s) counts from its join, so it still gets the partitions and their replays.
        var (code, _, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, [.. run, "--config", dir.File("second.conf"), "--stop-after-idle", "1", "--summary-json", dir.File("second.json")]);
        Assert.True(code == 0, stderr);

        using var summary = JsonDocument.Parse(await File.ReadAllTextAsync(dir.File("second.json"), TestContext.Current.CancellationToken));
        var entities = summary.RootElement.GetProperty("entities");
        Assert.Equal(3000, entities.GetProperty("duplicates_dropped").GetInt64());
        Assert.Equal(0, entities.GetProperty("events_persisted").GetInt64());
        Assert.Equal(kafka.EndOffsets(topic, 4), kafka.Committed(group, topic, 4));

        var alertIds = kafka.ReadAll(alerts, 2, expected: alertsBefore, timeout: TimeSpan.FromSeconds(5))
            .Select(r => JsonDocument.Parse(r.Message.Value).RootElement.GetProperty("alertId").GetString()).ToList();
        output.WriteLine($"{alertIds.Count} alerts after the restart, {alertsBefore} before it");
        Assert.Equal(alertIds.Count, alertIds.Distinct().Count());
        Assert.Equal(alertsBefore, alertIds.Count);
        long rescored = summary.RootElement.GetProperty("scoring").GetProperty("requests_scored").GetInt64();
        output.WriteLine($"requests scored again after the restart: {rescored}");
        Assert.True(rescored > 0, "the restart should have scored again what was never confirmed scored");
        Assert.Equal(0, summary.RootElement.GetProperty("alerts").GetInt64());

        var config = EngineConfig.Load(null, $"streamdetect.store.data-dir = \"{data}\"");
        Assert.Equal(3000, await PersistedEventsAsync(config));
    }

    [Fact]
    public async Task Two_engines_in_one_group_split_the_partitions_and_a_rebalance_loses_nothing()
    {
        using var dir = new TempDirectory();
        string topic = kafka.NewTopic("group-events", 6);
        string group = kafka.NewGroup("pair");
        int seedPort = FreePort(), otherPort = FreePort();
        Config NodeConfig(int port) => EngineConfig.Load(null, EngineHocon(dir.File("data"), topic, group, "unused-alerts", "unused-dlq") + $$"""

            streamdetect.store.kind = memory
            akka.remote.dot-netty.tcp.port = {{port}}
            akka.cluster.seed-nodes = ["akka.tcp://streamdetect@127.0.0.1:{{seedPort}}"]
            """);
        var seedConfig = NodeConfig(seedPort);
        var hosts = await Task.WhenAll(
            EngineHost.StartAsync(seedConfig, cluster: true, TestContext.Current.CancellationToken),
            EngineHost.StartAsync(NodeConfig(otherPort), cluster: true, TestContext.Current.CancellationToken));
        await using var a = hosts[0];
        await using var b = hosts[1];

        var streamA = StartConsumer(a, seedConfig);
        var streamB = StartConsumer(b, seedConfig);
        // The events go out once the group has split the partitions between the two engines: produced before,
        // they could all be read by whichever consumer joined first while the other still waited for partitions.
        var controlA = await streamA.Kafka.Control.WaitAsync(Timeout, TestContext.Current.CancellationToken);
        var controlB = await streamB.Kafka.Control.WaitAsync(Timeout, TestContext.Current.CancellationToken);
        await WaitUntil(() => controlA.Assignment.Count > 0 && controlB.Assignment.Count > 0 && controlA.Assignment.Count + controlB.Assignment.Count == 6,
            () => $"both engines should get partitions of the group (A {controlA.Assignment.Count}, B {controlB.Assignment.Count})");
        output.WriteLine($"assignment: engine A {string.Join(",", controlA.Assignment.Select(p => p.Partition.Value))}, engine B {string.Join(",", controlB.Assignment.Select(p => p.Partition.Value))}");
        kafka.ProduceEvents(topic, 0, 2000);
        await WaitUntil(() => streamA.Job.Routing.Accepted + streamB.Job.Routing.Accepted >= 2000);
        long aBefore = streamA.Job.Statistics.Events, bBefore = streamB.Job.Statistics.Events;
        output.WriteLine($"split: engine A {aBefore}, engine B {bBefore}");
        Assert.True(aBefore > 0 && bBefore > 0, "both engines should have partitions of the group");

        // Engine A leaves the group (its partitions move to B) while more events arrive.
        var leaving = Task.Run(async () =>
        {
            await streamA.Kafka.StopAsync();
            await streamA.Run;
            await streamA.Kafka.CompleteAsync();
        }, TestContext.Current.CancellationToken);
        kafka.ProduceEvents(topic, 2000, 2000);
        await leaving.WaitAsync(Timeout, TestContext.Current.CancellationToken);
        await WaitUntil(() => streamB.Job.Routing.Accepted + streamA.Job.Routing.Accepted >= 4000);
        await streamB.Kafka.StopAsync();
        await streamB.Run.WaitAsync(Timeout, TestContext.Current.CancellationToken);
        await streamB.Kafka.CompleteAsync();

        // The user partitions are shared by the cluster: every event is in them exactly once.
        var stats = await a.PartitionStatsAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(4000, stats.Sum(s => s.EventsApplied));
        Assert.Equal(kafka.EndOffsets(topic, 6), kafka.Committed(group, topic, 6));
        output.WriteLine($"after the rebalance: engine A {streamA.Job.Statistics.Events}, engine B {streamB.Job.Statistics.Events}, replays dropped {stats.Sum(s => s.Duplicates)}");
    }

    // --stop-after-idle counts from the last record or the last change of the consumer's partitions. A local-cluster
    // node that got its share, then waited for the other nodes and the feed, counted that wait as idleness and drained
    // just as the records came; the partitions it still held were read by no one (2,329 of 5,164 events persisted).
    [Fact]
    public async Task A_change_of_the_consumers_partitions_restarts_its_idle_time()
    {
        using var dir = new TempDirectory();
        string topic = kafka.NewTopic("idle-events", 4);
        string group = kafka.NewGroup("idle");
        var config = EngineConfig.Load(null, EngineHocon(dir.File("data"), topic, group, "unused-alerts", "unused-dlq") + "\nstreamdetect.store.kind = memory\n");
        await using var host = await EngineHost.StartAsync(config, cluster: false, TestContext.Current.CancellationToken);
        var stream = StartConsumer(host, config);
        var control = await stream.Kafka.Control.WaitAsync(Timeout, TestContext.Current.CancellationToken);
        await WaitUntil(() => control.Assignment.Count == 4, () => $"the consumer should own the 4 partitions (owns {control.Assignment.Count})");
        kafka.ProduceEvents(topic, 0, 100);
        await WaitUntil(() => stream.Job.Routing.Accepted >= 100);
        await WaitUntil(() => stream.Kafka.IdleMilliseconds >= 3000, () => $"idle {stream.Kafka.IdleMilliseconds} ms");

        // Another member joins: the group moves some of the partitions to it.
        var other = new Confluent.Kafka.ConsumerBuilder<byte[], byte[]>(new Confluent.Kafka.ConsumerConfig
        {
            BootstrapServers = kafka.Bootstrap,
            GroupId = group,
            PartitionAssignmentStrategy = Confluent.Kafka.PartitionAssignmentStrategy.CooperativeSticky,
            EnableAutoCommit = false,
        }).Build();
        other.Subscribe(topic);
        try
        {
            var polling = Task.Run(() =>
            {
                while (control.Assignment.Count == 4 && !TestContext.Current.CancellationToken.IsCancellationRequested) other.Consume(100);
            }, TestContext.Current.CancellationToken);
            await WaitUntil(() => control.Assignment.Count < 4, () => $"the group should move partitions to the new member (owns {control.Assignment.Count})");
            await polling;
            // The first reading that is not a rebalance's momentary 0 (the group joining again) counts from the change.
            long idle = 0;
            await WaitUntil(() => (idle = stream.Kafka.IdleMilliseconds) > 0);
            Assert.True(idle < 2000, $"idle {idle} ms after the rebalance: still counted from the last record");
        }
        finally
        {
            other.Close();
            other.Dispose();
        }
        await stream.Kafka.StopAsync();
        await stream.Run.WaitAsync(Timeout, TestContext.Current.CancellationToken);
        await stream.Kafka.CompleteAsync();
    }

    private sealed record Consumer(IngestJob Job, KafkaEventSource Kafka, Task<IngestResult> Run);

    private static Consumer StartConsumer(EngineHost host, Config config)
    {
        var kafkaSource = new KafkaEventSource(Stages.Kafka.KafkaConsumerSettings.Create(config), null, new EventParser(ValidationSettings.Default), 4096,
            Akka.Streams.ActorMaterializer.Create(host.System));
        var job = new IngestJob(host);
        var progress = new ReadProgress();
        var run = job.RunAsync(kafkaSource.Events(progress), IngestJob.CountingSink(), () => progress.Records, CancellationToken.None, kafkaSource.Acks());
        return new Consumer(job, kafkaSource, run);
    }

    private static async Task WaitUntil(Func<bool> condition, Func<string>? failure = null)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure?.Invoke() ?? "timed out");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<long> PersistedEventsAsync(Config config)
    {
        await using var host = await EngineHost.StartAsync(config, cluster: false, TestContext.Current.CancellationToken);
        var stats = await host.PartitionStatsAsync(TimeSpan.FromSeconds(60));
        return stats.Sum(s => s.EventsApplied);
    }

    /// <summary>Events in the SQLite journal, counted by decoding each row (one row holds a batch) with the engine's codec; 0 while the file is not there yet or is locked.</summary>
    /// <summary>Starts an engine process, waits until its journal holds <paramref name="events"/> events (and <paramref name="beforeKill"/> returned), and kills it (-9).</summary>
    private async Task RunUntilPersistedThenKillAsync(string workDir, string[] args, string dataDir, int events, Action? beforeKill = null)
    {
        using var engine = EngineProcess.Start(workDir, args);
        string db = Path.Combine(dataDir, "streamdetect.db");
        var deadline = DateTime.UtcNow + Timeout;
        while (JournalEvents(db) < events)
        {
            Assert.True(DateTime.UtcNow < deadline, "the engine did not persist the events: " + engine.Stderr);
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
        beforeKill?.Invoke();
        engine.KillHard();
    }

    private Engine.Persistence.EngineSerializer JournalCodec => new((Akka.Actor.ExtendedActorSystem)kafka.System);

    private long JournalEvents(string db)
    {
        if (!File.Exists(db)) return 0;
        try
        {
            using var connection = new SqliteConnection($"Data Source={db};Mode=ReadOnly");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT message, manifest FROM journal WHERE deleted = 0";
            long events = 0;
            using var reader = command.ExecuteReader();
            while (reader.Read())
                events += ((EventsPersisted)JournalCodec.FromBinary((byte[])reader[0], (string)reader[1])).Events.Count;
            return events;
        }
        catch (SqliteException)
        {
            return 0;
        }
    }
}
