using StreamDetect.Stages.Feedback;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Akka.Streams.Dsl;
using StreamDetect.Stages.Kafka;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Integration.Tests.Kafka;

[Collection(KafkaCollection.Name)]
public sealed class KafkaConsumerSourceTests(KafkaMockFixture kafka, ITestOutputHelper output)
{
    private static HashSet<SourcePosition> AllPositions(string topic, Dictionary<int, long> endOffsets) =>
        endOffsets.SelectMany(p => Enumerable.Range(0, (int)p.Value).Select(o => new SourcePosition("kafka:" + topic, p.Key, o))).ToHashSet();

    [Fact]
    public async Task CommittableSource_must_consume_every_event_commit_to_the_end_and_consume_nothing_again_after_a_restart()
    {
        string topic = kafka.NewTopic("events", partitions: 3);
        string group = kafka.NewGroup("g");
        kafka.ProduceEvents(topic, 0, 300);
        var settings = kafka.ConsumerSettings(group, topic);

        var first = ProcessingPipeline.Start(kafka, settings, delay: TimeSpan.FromMilliseconds(1));
        await first.WaitForAsync(300);
        await first.DrainAsync();

        var end = kafka.EndOffsets(topic, 3);
        Assert.Equal(300, end.Values.Sum());
        Assert.Equal(AllPositions(topic, end), first.Positions);
        Assert.All(first.Processed, p => Assert.IsType<IngestedEvent>(p));
        Assert.Equal(end, kafka.Committed(group, topic, 3));

        // Restart in the same group: only a record produced afterwards arrives.
        var second = ProcessingPipeline.Start(kafka, settings);
        kafka.ProduceEvents(topic, 300, 1);
        await second.WaitForAsync(1);
        Assert.Equal(1, await second.CountAfterAsync(TimeSpan.FromMilliseconds(300)));
        await second.DrainAsync();
        Assert.Equal(kafka.EndOffsets(topic, 3), kafka.Committed(group, topic, 3));
    }

    [Fact]
    public async Task CommittableSource_must_replay_records_that_were_persisted_but_not_committed_when_the_engine_died()
    {
        string topic = kafka.NewTopic("crash", partitions: 2);
        string group = kafka.NewGroup("g");
        kafka.ProduceEvents(topic, 0, 100);
        var settings = kafka.ConsumerSettings(group, topic);

        // Every record is persisted, but the process "dies" before reporting the ones at offset >= 20 done.
        var crashed = ProcessingPipeline.Start(kafka, settings, commitIf: p => p.Position.Offset < 20);
        await crashed.WaitForAsync(100);
        await crashed.DrainAsync();
        var committed = kafka.Committed(group, topic, 2);
        Assert.All(committed.Values, offset => Assert.Equal(20, offset));

        var restarted = ProcessingPipeline.Start(kafka, settings);
        var end = kafka.EndOffsets(topic, 2);
        int replay = (int)end.Values.Sum(e => e - 20);
        await restarted.WaitForAsync(replay);
        await restarted.DrainAsync();

        // Exactly the persisted-but-uncommitted records come again (the entity layer drops them by position).
        var expected = end.SelectMany(p => Enumerable.Range(20, (int)p.Value - 20).Select(o => new SourcePosition("kafka:" + topic, p.Key, o))).ToHashSet();
        Assert.Equal(expected, restarted.Positions);
        Assert.Equal(end, kafka.Committed(group, topic, 2));
    }

    [Theory]
    [InlineData("cooperative-sticky")]
    [InlineData("range,roundrobin")] // eager: every rebalance revokes everything
    public async Task Consumers_of_one_group_must_split_the_partitions_and_lose_nothing_when_one_leaves(string strategy)
    {
        const int partitions = 4;
        string topic = kafka.NewTopic("split", partitions);
        string group = kafka.NewGroup("g");
        var settings = kafka.ConsumerSettings(group, topic).WithBufferSize(16).WithProperty("partition.assignment.strategy", strategy);

        var commits = new ConcurrentQueue<Dictionary<int, long>>();
        using var watching = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            while (!watching.IsCancellationRequested)
            {
                commits.Enqueue(kafka.Committed(group, topic, partitions));
                await Task.Delay(50, TestContext.Current.CancellationToken);
            }
        }, TestContext.Current.CancellationToken);

        var a = ProcessingPipeline.Start(kafka, settings, delay: TimeSpan.FromMilliseconds(5));
        var b = ProcessingPipeline.Start(kafka, settings, delay: TimeSpan.FromMilliseconds(5));
        // The records go out once the group has split the partitions: produced before, they could all be read by
        // the consumer that joined first while the other still waited for partitions (seen on a loaded machine).
        var clock = Stopwatch.StartNew();
        while (a.Control.Assignment.Count == 0 || b.Control.Assignment.Count == 0 || a.Control.Assignment.Count + b.Control.Assignment.Count != partitions)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"both consumers should get partitions (a {a.Control.Assignment.Count}, b {b.Control.Assignment.Count})");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
        kafka.ProduceEvents(topic, 0, 400);
        clock.Restart();
        while (a.Positions.Count < 20 || b.Positions.Count < 20)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"both consumers should read records (a {a.Positions.Count}, b {b.Positions.Count})");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
        // Both consumers have read records (the loop above), each from the partitions the group gave it. That no
        // partition has two owners at once is the next test's subject.
        var partitionsA = a.Positions.Select(p => p.Partition).ToHashSet();
        var partitionsB = b.Positions.Select(p => p.Partition).ToHashSet();
        output.WriteLine($"before b leaves: a read {string.Join(",", partitionsA)}, b read {string.Join(",", partitionsB)}");

        await b.DrainAsync(); // b leaves mid-stream; its partitions move to a
        kafka.ProduceEvents(topic, 400, 100);
        var end = kafka.EndOffsets(topic, partitions);
        var all = AllPositions(topic, end);
        clock.Restart();
        while (!all.IsSubsetOf(a.Positions.Union(b.Positions)))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "a should take over b's partitions and read everything");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
        await a.DrainAsync();
        watching.Cancel();
        await watcher;
        commits.Enqueue(kafka.Committed(group, topic, partitions));

        Assert.Equal(all, a.Positions.Union(b.Positions).ToHashSet());
        output.WriteLine($"records processed {a.Processed.Count + b.Processed.Count} for {all.Count} produced (replays after the rebalance are allowed)");
        for (int p = 0; p < partitions; p++)
        {
            var sequence = commits.Select(c => c[p]).Where(o => o >= 0).ToList();
            for (int i = 1; i < sequence.Count; i++)
                Assert.True(sequence[i] >= sequence[i - 1], $"partition {p}: commit went back from {sequence[i - 1]} to {sequence[i]}");
        }
        Assert.Equal(end, kafka.Committed(group, topic, partitions));
    }

    [Fact]
    public async Task A_consumer_paused_by_a_stalled_downstream_during_a_rebalance_must_fetch_the_partitions_it_gets_back_later()
    {
        // librdkafka keeps a partition's pause flag across revocation: a partition paused while its buffer
        // was full, revoked, and assigned again later must still be resumed, or it is never fetched again.
        const int partitions = 4;
        string topic = kafka.NewTopic("paused", partitions);
        string group = kafka.NewGroup("g");
        kafka.ProduceEvents(topic, 0, 400);
        var settings = kafka.ConsumerSettings(group, topic).WithBufferSize(16)
            .WithRevokeDrainTimeout(TimeSpan.FromMilliseconds(200))
            .WithProperty("partition.assignment.strategy", "range,roundrobin"); // eager: b's join revokes all of a's

        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var a = ProcessingPipeline.Start(kafka, settings, hold: hold.Task);
        var clock = Stopwatch.StartNew();
        while (a.Started < 8)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "a should receive records");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
        await Task.Delay(settings.PollTimeout * 10, TestContext.Current.CancellationToken); // a's buffer stays full: it pauses

        var b = ProcessingPipeline.Start(kafka, settings);
        await b.WaitForAsync(20);
        hold.SetResult(); // a goes on with the partitions the rebalance left it
        await a.WaitForAsync(20);
        await b.DrainAsync(); // b's partitions come back to a, which paused them before losing them

        // Done means committed to the end: what b read but could not commit (its last commit may land in the
        // rebalance its leaving starts) a reads again.
        var end = kafka.EndOffsets(topic, partitions);
        clock.Restart();
        while (!kafka.Committed(group, topic, partitions).OrderBy(p => p.Key).SequenceEqual(end.OrderBy(p => p.Key)))
        {
            var unread = AllPositions(topic, end).Except(a.Positions.Union(b.Positions)).Select(p => p.Partition).Distinct();
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30),
                $"a should read and commit the partitions it got back; committed {string.Join(",", kafka.Committed(group, topic, partitions))}, unread in {string.Join(",", unread)}");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
        await a.DrainAsync();
        Assert.Equal(AllPositions(topic, end), a.Positions.Union(b.Positions).ToHashSet());
    }

    [Fact]
    public async Task A_rebalance_with_records_in_flight_must_never_let_two_owners_work_on_a_partition_at_once_nor_lose_any()
    {
        const int partitions = 4;
        string topic = kafka.NewTopic("revoke", partitions);
        string group = kafka.NewGroup("g");
        kafka.ProduceEvents(topic, 0, 400);
        var settings = kafka.ConsumerSettings(group, topic).WithBufferSize(16);

        // a processes slowly (8 records in flight, 80-160 ms each: 4-8 s for all 400), so records of every
        // partition are in flight when b joins and takes partitions away, even when b's join is slow under load
        // (at 30 ms a read all 400 before b held a partition once, with the machine's load average at 40).
        var a = ProcessingPipeline.Start(kafka, settings, delay: TimeSpan.FromMilliseconds(80));
        await a.WaitForAsync(40);
        var b = ProcessingPipeline.Start(kafka, settings, delay: TimeSpan.FromMilliseconds(1));
        var all = AllPositions(topic, kafka.EndOffsets(topic, partitions));
        var clock = Stopwatch.StartNew();
        while (!all.IsSubsetOf(a.Positions.Union(b.Positions)))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(40), $"a {a.Positions.Count} + b {b.Positions.Count} of {all.Count}");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
        // a leaves first and b once it owns every partition: drained at once, b's last commit could land in the
        // rebalance a's leaving starts, which the mock refuses, and no member would be left to read b's last records again.
        await a.DrainAsync();
        clock.Restart();
        while (b.Control.Assignment.Count != partitions)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"b should take over a's partitions (b owns {b.Control.Assignment.Count})");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
        await b.DrainAsync();

        // b can start on a partition only after a's revocation returned, and a's revocation waits (up to
        // revoke-drain-timeout) for a's in-flight records of that partition: so a finished all its work on a
        // moved partition before b finished anything there. (Against the mock the rebalance itself is slow
        // enough that this also holds without the wait; the wait matters when it is fast.)
        var moved = b.Positions.Select(p => p.Partition).ToHashSet();
        Assert.NotEmpty(moved);
        foreach (int partition in moved)
        {
            var aTimes = a.Timeline.Where(t => t.Position.Partition == partition).Select(t => t.Ticks).ToList();
            if (aTimes.Count == 0) continue;
            long bFirst = b.Timeline.Where(t => t.Position.Partition == partition).Min(t => t.Ticks);
            Assert.True(aTimes.Max() <= bFirst, $"partition {partition}: a finished a record {(aTimes.Max() - bFirst) * 1000.0 / Stopwatch.Frequency:F0} ms after b started on it");
        }
        int both = a.Positions.Intersect(b.Positions).Count();
        output.WriteLine($"a processed {a.Positions.Count}, b {b.Positions.Count}; replayed after the move: {both} " +
                         "(0 when the commit made on revocation is accepted; the mock rejects it when it lands during a rebalance)");
        Assert.Equal(all, a.Positions.Union(b.Positions).ToHashSet());
        Assert.Equal(kafka.EndOffsets(topic, partitions), kafka.Committed(group, topic, partitions));
    }

    [Fact]
    public async Task Malformed_records_must_land_on_the_dead_letter_topic_and_be_committed_with_the_good_ones()
    {
        string topic = kafka.NewTopic("mixed", partitions: 1);
        string dlq = kafka.NewTopic("dlq", partitions: 1);
        string group = kafka.NewGroup("g");
        string good = Encoding.UTF8.GetString(ProducerRecord.ForEvent(KafkaMockFixture.Event(1)).Value);
        kafka.ProduceRaw(topic,
        [
            (Encoding.UTF8.GetBytes(good), "1"),
            (Encoding.UTF8.GetBytes("{\"userId\": oops"), "1"),
            (Encoding.UTF8.GetBytes("{\"userId\":\"u-1\",\"type\":\"view\"}"), null),
            (Encoding.UTF8.GetBytes(good), "2"),
            ([0xff, 0xfe, 0xfd], "1"),
            (Encoding.UTF8.GetBytes(good), null),
        ]);
        var settings = kafka.ConsumerSettings(group, topic);

        var pipeline = ProcessingPipeline.Start(kafka, settings, deadLetters: kafka.ProducerSettings().WithDeadLettersTopic(dlq));
        await pipeline.WaitForAsync(6);
        await pipeline.DrainAsync();
        Assert.Equal(new Dictionary<int, long> { [0] = 6 }, kafka.Committed(group, topic, 1));

        var letters = kafka.ReadAll(dlq, 1, expected: 4)
            .Select(r => JsonDocument.Parse(r.Message.Value).RootElement)
            .OrderBy(j => j.GetProperty("offset").GetInt64())
            .ToList();
        Assert.Equal([1L, 2L, 3L, 4L], letters.Select(j => j.GetProperty("offset").GetInt64()));
        Assert.All(letters, j => Assert.Equal("kafka:" + topic, j.GetProperty("source").GetString()));
        Assert.Equal(["malformed_json", "missing_field", "unsupported_schema", "invalid_encoding"], letters.Select(j => j.GetProperty("reason").GetString()));
        Assert.Equal("{\"userId\": oops", letters[0].GetProperty("raw").GetString());
        Assert.Contains("schema version '2'", letters[2].GetProperty("detail").GetString());
        Assert.Equal([0xff, 0xfe, 0xfd], letters[3].GetProperty("rawBase64").GetBytesFromBase64());
    }

    [Fact]
    public async Task Alerts_produced_by_the_sink_must_be_readable_from_the_alert_topic_keyed_by_userId()
    {
        string alerts = kafka.NewTopic("alerts", partitions: 3);
        var records = Enumerable.Range(0, 50)
            .Select(i => new ProducerRecord($"u-{i % 7}", Encoding.UTF8.GetBytes($"{{\"alertId\":\"a-{i}\",\"userId\":\"u-{i % 7}\"}}")))
            .ToList();
        await Source.From(records).RunWith(KafkaProducerSink.Alerts(kafka.ProducerSettings().WithAlertsTopic(alerts).WithMaxInFlight(8)), kafka.Materializer);

        var read = kafka.ReadAll(alerts, 3, expected: 50);
        Assert.Equal(50, read.Count); // no duplicates either
        foreach (var r in read)
        {
            var json = JsonDocument.Parse(r.Message.Value).RootElement;
            Assert.Equal(json.GetProperty("userId").GetString(), r.Message.Key);
        }
        // Same key, same partition: a user's alerts stay in order.
        Assert.All(read.GroupBy(r => r.Message.Key), g => Assert.Single(g.Select(r => r.Partition.Value).Distinct()));
    }

    [Fact]
    public async Task ProducerSink_must_deliver_everything_exactly_once_through_a_broker_outage()
    {
        string topic = kafka.NewTopic("outage", partitions: 1);
        kafka.Cluster.SetPartitionLeader(topic, 0, brokerId: 2);
        kafka.Cluster.SetBrokerDown(2);
        var sink = Source.From(Enumerable.Range(0, 200).Select(i => new ProducerRecord($"u-{i}", Encoding.UTF8.GetBytes($"{i}"))))
            .RunWith(KafkaProducerSink.Create(kafka.ProducerSettings().WithMaxInFlight(16), topic), kafka.Materializer);
        await Task.Delay(700, TestContext.Current.CancellationToken);
        Assert.False(sink.IsCompleted, "nothing can be acknowledged while the leader is down");
        kafka.Cluster.SetBrokerUp(2);
        await sink.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        var values = kafka.ReadAll(topic, 1, expected: 200).Select(r => int.Parse(Encoding.UTF8.GetString(r.Message.Value))).ToList();
        Assert.Equal(Enumerable.Range(0, 200), values); // idempotent producer: no duplicates, in order
    }

    [Fact]
    public async Task ProducerSink_must_fail_its_task_when_a_record_cannot_be_delivered()
    {
        string topic = kafka.NewTopic("toolarge", partitions: 1);
        var settings = kafka.ProducerSettings().WithProperty("message.max.bytes", "2000");
        var task = Source.Single(new ProducerRecord("u", new byte[10_000])).RunWith(KafkaProducerSink.Create(settings, topic), kafka.Materializer);
        var e = await Assert.ThrowsAsync<StreamDetect.Stages.Failures.EnvironmentFailureException>(() => task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
        output.WriteLine(e.Message);
        Assert.IsAssignableFrom<Confluent.Kafka.KafkaException>(e.InnerException);
        Assert.Contains($"topic '{topic}'", e.Message); // one line naming the topic (exit code 4 in a run)
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public async Task Committer_must_retry_commits_the_broker_rejects()
    {
        string topic = kafka.NewTopic("commit-errors", partitions: 1);
        string group = kafka.NewGroup("g");
        kafka.ProduceEvents(topic, 0, 50);
        var settings = kafka.ConsumerSettings(group, topic);
        var pipeline = ProcessingPipeline.Start(kafka, settings);
        await pipeline.WaitForAsync(50);
        kafka.Cluster.PushRequestErrors(Stages.Kafka.Mock.KafkaApiKey.OffsetCommit,
            Confluent.Kafka.ErrorCode.RebalanceInProgress, Confluent.Kafka.ErrorCode.RequestTimedOut, Confluent.Kafka.ErrorCode.RebalanceInProgress);
        kafka.ProduceEvents(topic, 50, 10);
        await pipeline.WaitForAsync(60);
        var clock = Stopwatch.StartNew();
        while (kafka.Committed(group, topic, 1)[0] != 60 && clock.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(100, TestContext.Current.CancellationToken);
        await pipeline.DrainAsync();
        kafka.Cluster.ClearRequestErrors(Stages.Kafka.Mock.KafkaApiKey.OffsetCommit);
        Assert.Equal(60, kafka.Committed(group, topic, 1)[0]);
    }

    [Fact]
    public async Task Stop_must_complete_the_source_while_commits_of_in_flight_records_still_go_through()
    {
        string topic = kafka.NewTopic("stop", partitions: 2);
        string group = kafka.NewGroup("g");
        kafka.ProduceEvents(topic, 0, 100);
        var settings = kafka.ConsumerSettings(group, topic);
        var pipeline = ProcessingPipeline.Start(kafka, settings, delay: TimeSpan.FromMilliseconds(2));
        await pipeline.WaitForAsync(10);
        await pipeline.Control.Stop();
        await pipeline.Completion.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken); // the stream ends after what was emitted
        int processed = pipeline.Positions.Count;
        Assert.False(pipeline.Control.IsShutdown.IsCompleted, "Stop keeps the consumer for commits");
        await pipeline.Control.Shutdown();

        // What was processed is committed, per partition, as a contiguous prefix; nothing beyond it.
        var committed = kafka.Committed(group, topic, 2);
        Assert.Equal(processed, (int)committed.Values.Where(o => o > 0).Sum());
        foreach (var (partition, offset) in committed)
            Assert.Equal(pipeline.Positions.Count(p => p.Partition == partition), (int)Math.Max(0, offset));
    }

    [Fact]
    public async Task FeedbackLabelSource_must_emit_valid_labels_and_drop_invalid_ones()
    {
        string topic = kafka.NewTopic("feedback", partitions: 1);
        kafka.ProduceRaw(topic,
        [
            (Encoding.UTF8.GetBytes("{\"userId\":\"u-1\",\"label\":1,\"alertId\":\"a-1\"}"), null),
            (Encoding.UTF8.GetBytes("{\"userId\":\"u-2\",\"label\":7}"), null),
            (Encoding.UTF8.GetBytes("garbage"), null),
            (Encoding.UTF8.GetBytes("{\"userId\":\"u-3\",\"label\":0}"), null),
        ]);
        var settings = kafka.ConsumerSettings(kafka.NewGroup("feedback"), topic);
        var (control, labels) = FeedbackLabelSource.Create(settings).Take(2).ToMaterialized(Sink.Seq<FeedbackLabel>(), Keep.Both).Run(kafka.Materializer);
        var result = await labels.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        await control.IsShutdown.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken); // Take cancelled the source: consumer closed
        Assert.Equal([new FeedbackLabel("u-1", 1, "a-1"), new FeedbackLabel("u-3", 0, null)], result);
    }

    [Fact]
    public async Task Throughput_of_the_committable_source_with_parsing_and_committing()
    {
        const int count = 200_000;
        // 8 partitions: the mock keeps only ~5 MiB per partition, and 200k events are ~26 MB.
        string topic = kafka.NewTopic("throughput", partitions: 8);
        string group = kafka.NewGroup("g");
        var produce = Stopwatch.StartNew();
        kafka.ProduceEvents(topic, 0, count);
        produce.Stop();

        var settings = kafka.ConsumerSettings(group, topic).WithCommit(KafkaCommitterSettings.Default);
        var decoder = new KafkaEventDecoder(new EventParser(Stages.Validation.ValidationSettings.Default), settings);
        long events = 0;
        var clock = Stopwatch.StartNew();
        var (control, completion) = KafkaConsumerSource.CommittableSource(settings)
            .Select(r =>
            {
                if (decoder.Decode(r.Record) is IngestedEvent) Interlocked.Increment(ref events);
                return r.Offset;
            })
            .ToMaterialized(KafkaCommitter.Sink(settings.Commit), Keep.Both)
            .Run(kafka.Materializer);
        while (Interlocked.Read(ref events) < count)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"consumed {events} of {count}");
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
        var consumed = clock.Elapsed;
        await control.DrainAndShutdown(completion);
        var total = clock.Elapsed;

        Assert.Equal(kafka.EndOffsets(topic, 8), kafka.Committed(group, topic, 8));
        output.WriteLine($"produced {count} events in {produce.Elapsed.TotalSeconds:F2}s ({count / produce.Elapsed.TotalSeconds:F0}/s, Confluent producer)");
        output.WriteLine($"consumed+parsed+committed {count} events in {consumed.TotalSeconds:F2}s: {count / consumed.TotalSeconds:F0} records/s " +
                         $"(1 consumer, 8 partitions, mock cluster of 3 brokers; drain+final commit+close at {total.TotalSeconds:F2}s)");
    }
}
