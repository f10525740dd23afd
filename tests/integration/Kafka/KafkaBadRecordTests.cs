using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Pipeline;
using StreamDetect.Engine.Pipeline.Inputs;
using StreamDetect.Engine.Pipeline.Outputs;
using StreamDetect.Integration.Tests.Support;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Training;
using StreamDetect.Stages.Generator;
using StreamDetect.Stages.Kafka;
using StreamDetect.Stages.Parsing;

namespace StreamDetect.Integration.Tests.Kafka;

/// <summary>
/// Records that once crashed the engine (a far-epoch ts: the rejection message itself threw, the offset
/// was never committed and every restart crashed again) and other edges, produced between good records
/// on the mock cluster: each is dead-lettered with a reason, the good ones go through, the offsets are
/// committed past them and a rerun in the same group does not see them again.
/// </summary>
[Collection(KafkaCollection.Name)]
public sealed class KafkaBadRecordTests(KafkaMockFixture kafka, ITestOutputHelper output)
{
    private static readonly byte[] Bom = [0xEF, 0xBB, 0xBF];

    private static byte[] Good(int i) => ProducerRecord.ForEvent(KafkaMockFixture.Event(i)).Value;

    /// <summary>Bad values (with what they must be rejected as) and odd keys, interleaved with good records.</summary>
    private static List<(byte[]? Key, byte[] Value, string? Reason)> Interleaved()
    {
        byte[] bigKey = new byte[100_000];
        new Random(3).NextBytes(bigKey);
        (byte[] Value, string Reason)[] bad =
        [
            ("""{"userId":"u","ts":1e15,"type":"view"}"""u8.ToArray(), "out_of_range"),
            ("""{"userId":"u","ts":-1e15,"type":"view"}"""u8.ToArray(), "out_of_range"),
            ("""{"userId":"u","ts":253402300800000,"type":"view"}"""u8.ToArray(), "out_of_range"),
            ("""{"userId":"u","ts":99999999999,"type":"view"}"""u8.ToArray(), "out_of_range"),
            ("""{"userId":"u","ts":"9999-12-31T23:59:59.9999999Z","type":"view"}"""u8.ToArray(), "out_of_range"),
            ("""{"userId":"u","ts":1e16,"type":"view"}"""u8.ToArray(), "invalid_timestamp"),
            ("""{"userId":"u","ts":1e400,"type":"view"}"""u8.ToArray(), "invalid_timestamp"),
            ("""{"userId":"u","ts":"NaN","type":"view"}"""u8.ToArray(), "invalid_timestamp"),
            ("""{"userId":"u","ts":"10000-01-01T00:00:00Z","type":"view"}"""u8.ToArray(), "invalid_timestamp"),
            ("""{"userId":"u","ts":1763805851,"type":"purchase","amount":1e400}"""u8.ToArray(), "out_of_range"),
            ("""{"userId":"\ud800","ts":1763805851,"type":"view"}"""u8.ToArray(), "malformed_json"),
        ];
        byte[]?[] keys = [null, [0xff, 0xfe, 0xfd], bigKey, [], "u-1"u8.ToArray()];
        var records = new List<(byte[]? Key, byte[] Value, string? Reason)>();
        int good = 0;
        for (int i = 0; i < bad.Length; i++)
        {
            records.Add((keys[i % keys.Length], Good(good++), null));
            records.Add((keys[(i + 1) % keys.Length], bad[i].Value, bad[i].Reason));
        }
        // A record with a byte-order mark is a good record.
        records.Add((null, [.. Bom, .. Good(good++)], null));
        records.Add((bigKey, Good(good), null));
        return records;
    }

    private void Produce(string topic, IEnumerable<(byte[]? Key, byte[] Value, string? Reason)> records)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = kafka.Bootstrap, EnableIdempotence = true }).Build();
        foreach (var (key, value, _) in records)
            producer.Produce(topic, new Message<byte[]?, byte[]> { Key = key, Value = value, Headers = new Headers { { "sd-schema", "1"u8.ToArray() } } });
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Far_epoch_and_edge_records_are_dead_lettered_between_good_ones_committed_and_not_seen_again_after_a_restart()
    {
        string topic = kafka.NewTopic("bad-records", partitions: 1);
        string dlq = kafka.NewTopic("bad-records-dlq", partitions: 1);
        string group = kafka.NewGroup("bad");
        var records = Interleaved();
        Produce(topic, records);
        var settings = kafka.ConsumerSettings(group, topic);

        var first = ProcessingPipeline.Start(kafka, settings, deadLetters: kafka.ProducerSettings().WithDeadLettersTopic(dlq));
        await first.WaitForAsync(records.Count);
        await first.DrainAsync();

        Assert.Equal(new Dictionary<int, long> { [0] = records.Count }, kafka.Committed(group, topic, 1));
        var events = first.Processed.OfType<IngestedEvent>().OrderBy(e => e.Position.Offset).ToList();
        var expectedGood = records.Select((r, offset) => (r, offset)).Where(x => x.r.Reason is null).Select(x => (long)x.offset).ToList();
        Assert.Equal(expectedGood, events.Select(e => e.Position.Offset));

        var expectedBad = records.Select((r, offset) => (r, offset)).Where(x => x.r.Reason is not null).ToList();
        var letters = kafka.ReadAll(dlq, 1, expected: expectedBad.Count)
            .Select(r => JsonDocument.Parse(r.Message.Value).RootElement)
            .OrderBy(j => j.GetProperty("offset").GetInt64())
            .ToList();
        Assert.Equal(expectedBad.Select(x => (long)x.offset), letters.Select(j => j.GetProperty("offset").GetInt64()));
        Assert.Equal(expectedBad.Select(x => x.r.Reason), letters.Select(j => j.GetProperty("reason").GetString()));
        foreach (var letter in letters) output.WriteLine($"{letter.GetProperty("offset").GetInt64()}: {letter.GetProperty("reason").GetString()}: {letter.GetProperty("detail").GetString()}");
        Assert.Contains("ms since 1970-01-01", letters[0].GetProperty("detail").GetString());

        // A restart in the same group: only a record produced afterwards arrives.
        var second = ProcessingPipeline.Start(kafka, settings, deadLetters: kafka.ProducerSettings().WithDeadLettersTopic(dlq));
        Produce(topic, [(null, Good(1000), null)]);
        await second.WaitForAsync(1);
        await second.DrainAsync();
        Assert.Equal([new Stages.Sources.SourcePosition("kafka:" + topic, 0, records.Count)], second.Positions);
        Assert.Equal(new Dictionary<int, long> { [0] = records.Count + 1 }, kafka.Committed(group, topic, 1));
    }

    [Fact]
    public async Task The_engine_dead_letters_a_far_epoch_record_commits_past_it_and_a_rerun_sees_nothing_again()
    {
        using var dir = new TempDirectory();
        string topic = kafka.NewTopic("far-epoch-events", 2), alerts = kafka.NewTopic("far-epoch-alerts", 1), dlq = kafka.NewTopic("far-epoch-dlq", 1);
        string group = kafka.NewGroup("far-epoch");
        var records = Interleaved();
        Produce(topic, records);
        int good = records.Count(r => r.Reason is null), bad = records.Count - good;

        var events = new TrafficGenerator(GeneratorSettings.Default with { Users = 300, Days = 2, Seed = 4 }).Events();
        using (var detector = DetectorTrainer.Train("zscore", DatasetBuilder.Build(events), new TrainingOptions { Device = "cpu" }, cancellation: TestContext.Current.CancellationToken))
            detector.Save(dir.File("zscore.sdm"));
        var config = EngineConfig.Load(null, $$"""
            streamdetect {
              store.data-dir = "{{dir.File("data")}}"
              routing.max-wait = 5ms
              kafka {
                bootstrap-servers = "{{kafka.Bootstrap}}"
                consumer {
                  topics = ["{{topic}}"]
                  group-id = "{{group}}"
                  revoke-drain-timeout = 2s
                  commit { max-batch = 100, max-interval = 100ms }
                  properties { "session.timeout.ms" = "3000", "heartbeat.interval.ms" = "300" }
                }
                producer { alerts-topic = "{{alerts}}", dead-letters-topic = "{{dlq}}", properties { "linger.ms" = "1" } }
              }
            }
            """);
        RunRequest Request() => new(config, EventSourceKind.Kafka, null, DeadLetterSinkKind.Kafka, null, dir.File("zscore.sdm"), AlertSinkKind.Kafka, null, TimeSpan.FromSeconds(2), null, "cpu");

        var first = await new RunJob(Request(), TextWriter.Null).RunAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(3), TestContext.Current.CancellationToken);
        first.Model?.Detector.Dispose();
        Assert.Equal(good, first.Summary.EventsValid);
        Assert.Equal(bad, first.Summary.DeadLetters);
        Assert.Equal(kafka.EndOffsets(topic, 2), kafka.Committed(group, topic, 2));
        Assert.Equal(bad, kafka.ReadAll(dlq, 1, expected: bad).Count);

        // Before the fix the far-epoch record failed the run and stayed uncommitted: every rerun failed on it again.
        var second = await new RunJob(Request(), TextWriter.Null).RunAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(3), TestContext.Current.CancellationToken);
        second.Model?.Detector.Dispose();
        Assert.Equal(0, second.Summary.EventsIn);
        Assert.Equal(0, second.Summary.DeadLetters);
    }
}
