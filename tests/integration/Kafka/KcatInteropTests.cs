using System.Text;
using System.Text.Json;
using Akka.Streams.Dsl;
using StreamDetect.Stages.Kafka;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Integration.Tests.Kafka;

/// <summary>Our stages against an independent Kafka client: Debian's kcat. Skipped (with the reason) without kcat.</summary>
[Collection(KafkaCollection.Name)]
public sealed class KcatInteropTests(KafkaMockFixture kafka)
{
    [Fact]
    public async Task Events_produced_with_kcat_must_be_consumed_committed_and_not_consumed_again()
    {
        Assert.SkipUnless(kafka.KcatPath is not null, KafkaMockFixture.KcatMissing);
        string topic = kafka.NewTopic("kcat-events", partitions: 3);
        string group = kafka.NewGroup("g");
        string file = Path.Combine(Path.GetTempPath(), $"{topic}.txt");
        var lines = Enumerable.Range(0, 120).Select(i =>
        {
            var e = KafkaMockFixture.Event(i);
            return $"{e.UserId}:{Encoding.UTF8.GetString(UserEventJson.ToUtf8(e))}";
        });
        await File.WriteAllLinesAsync(file, lines, TestContext.Current.CancellationToken);
        try
        {
            kafka.Kcat($"-b {kafka.Bootstrap} -t {topic} -P -K: -H sd-schema=1 -l {file}");
        }
        finally
        {
            File.Delete(file);
        }

        var settings = kafka.ConsumerSettings(group, topic);
        var pipeline = ProcessingPipeline.Start(kafka, settings);
        await pipeline.WaitForAsync(120);
        await pipeline.DrainAsync();
        var events = pipeline.Processed.Select(p => Assert.IsType<IngestedEvent>(p).Event).ToList();
        Assert.Equal(Enumerable.Range(0, 120).Select(i => $"sku-{i}").Order(), events.Select(e => e.Item!).Order());
        var end = kafka.EndOffsets(topic, 3);
        Assert.Equal(120, end.Values.Sum());
        Assert.Equal(end, kafka.Committed(group, topic, 3));

        // kcat's keys are the users, so each user's events share a partition, in order.
        Assert.All(pipeline.Processed.GroupBy(p => ((IngestedEvent)p).Event.UserId), user =>
            Assert.Single(user.Select(p => p.Position.Partition).Distinct()));

        var restarted = ProcessingPipeline.Start(kafka, settings);
        kafka.Kcat($"-b {kafka.Bootstrap} -t {topic} -P -K: -H sd-schema=1", stdin: $"u-x:{Encoding.UTF8.GetString(UserEventJson.ToUtf8(KafkaMockFixture.Event(999)))}\n");
        await restarted.WaitForAsync(1);
        Assert.Equal(1, await restarted.CountAfterAsync(TimeSpan.FromMilliseconds(300)));
        await restarted.DrainAsync();
    }

    [Fact]
    public async Task Dead_letters_and_alerts_must_be_readable_with_kcat()
    {
        Assert.SkipUnless(kafka.KcatPath is not null, KafkaMockFixture.KcatMissing);
        string dlq = kafka.NewTopic("kcat-dlq", partitions: 1);
        string alerts = kafka.NewTopic("kcat-alerts", partitions: 2);
        var producer = kafka.ProducerSettings().WithDeadLettersTopic(dlq).WithAlertsTopic(alerts);

        var bad = new DeadLetter(new RawRecord(Encoding.UTF8.GetBytes("{\"userId\":"), new SourcePosition("kafka:events", 2, 17), 11),
            new Stages.Validation.Rejection(Stages.Validation.RejectionReason.MalformedJson, "unexpected end of data"));
        await Source.Single(bad).RunWith(KafkaProducerSink.DeadLetters(producer, 4096), kafka.Materializer);
        await Source.From(Enumerable.Range(0, 6).Select(i => new ProducerRecord($"u-{i}", Encoding.UTF8.GetBytes($"{{\"alertId\":\"a-{i}\"}}"))))
            .RunWith(KafkaProducerSink.Alerts(producer), kafka.Materializer);

        string dead = kafka.Kcat($"-b {kafka.Bootstrap} -t {dlq} -C -e -q -o beginning -f %s\\n").Trim();
        var json = JsonDocument.Parse(dead).RootElement;
        Assert.Equal("malformed_json", json.GetProperty("reason").GetString());
        Assert.Equal("{\"userId\":", json.GetProperty("raw").GetString());
        Assert.Equal(2, json.GetProperty("partition").GetInt32());
        Assert.Equal(17, json.GetProperty("offset").GetInt64());

        var keyed = kafka.Kcat($"-b {kafka.Bootstrap} -t {alerts} -C -e -q -o beginning -f %k\\t%s\\n")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('\t'))
            .ToDictionary(kv => kv[0], kv => kv[1]);
        Assert.Equal(6, keyed.Count);
        Assert.Equal("{\"alertId\":\"a-3\"}", keyed["u-3"]);
    }
}
